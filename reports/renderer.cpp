#include "renderer.hpp"

#include <array>

namespace synprobe {
namespace {

constexpr std::array table{
    Renderer{"text", "aligned lines for a terminal, one per attempt, then a summary", render_text},
    Renderer{"json", "one JSON object (schema: docs/schema/synprobe.schema.json)", render_json},
};

}  // namespace

std::span<const Renderer> renderers() { return table; }

const Renderer* find_renderer(std::string_view name) {
  for (const Renderer& r : table)
    if (r.name == name) return &r;
  return nullptr;
}

}  // namespace synprobe
