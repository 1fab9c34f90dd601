#pragma once
// The whole command line as a function, so that tests can run it in-process.

#include <iosfwd>
#include <string>
#include <vector>

namespace synprobe {

// Everything a command needs from the outside world, passed in rather than global.
struct Environment {
  std::ostream& out;
  std::ostream& err;
  bool stdout_is_terminal = false;
  bool no_color = false;  // NO_COLOR is set and not empty
  bool stderr_is_terminal = false;  // progress lines go there only when it is
};

// Runs `synprobe args...` (args excludes the program name); returns the exit code.
int run(const std::vector<std::string>& args, Environment& env);

}  // namespace synprobe
