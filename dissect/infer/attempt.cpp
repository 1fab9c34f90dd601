#include "dissect/infer/attempt.hpp"

#include <algorithm>

namespace synprobe {

const Answer* Attempt::first_answer(AnswerKind kind) const {
  const auto it = std::find_if(answers.begin(), answers.end(),
                               [&](const Answer& a) { return a.kind == kind; });
  return it == answers.end() ? nullptr : &*it;
}

bool Attempt::has_answer(AnswerKind kind) const { return first_answer(kind) != nullptr; }

}  // namespace synprobe
