// synprobe's entry point: only assembles the environment and hands over to run().
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "cli.hpp"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  const char* no_color = std::getenv("NO_COLOR");
  synprobe::Environment env{std::cout, std::cerr, ::isatty(STDOUT_FILENO) == 1,
                            no_color != nullptr && *no_color != '\0', ::isatty(STDERR_FILENO) == 1};
  return synprobe::run(std::vector<std::string>(argv + 1, argv + argc), env);
}
