#pragma once
// Checks a JSON file with python3's json module: the file is loaded as `d`, then the
// given assertions run. Returns whether they passed and what python printed.

#include <cstdio>
#include <fstream>
#include <string>

namespace pyjson {

struct Result {
  bool ok = false;
  std::string output;
};

inline Result check(const std::string& json_path, const std::string& assertions) {
  const std::string script_path = json_path + ".check.py";
  {
    std::ofstream script(script_path);
    script << "import json, sys\nd = json.load(open(sys.argv[1]))\n" << assertions << "\n";
  }
  const std::string command = "python3 '" + script_path + "' '" + json_path + "' 2>&1";
  Result r;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return r;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, p)) > 0) r.output.append(buffer, n);
  r.ok = ::pclose(p) == 0;
  return r;
}

}  // namespace pyjson
