#pragma once
// The project's one rule for errors (docs/ARCHITECTURE.md):
//  - run-level failures (bad argument, unreadable input, missing privilege, failed output)
//    are exceptions of type synprobe::Failure, each carrying its exit code; only main()
//    catches them and turns them into one line on stderr;
//  - per-packet problems are values (DecodeStatus), counted and reported, never thrown.

#include <stdexcept>
#include <string>

namespace synprobe {

// Process exit codes (a contract: documented in --help and docs/exit-codes.md).
enum class ExitCode : int {
  ok = 0,
  internal = 1,        // a bug: an unexpected exception
  usage = 2,           // bad arguments, bad BPF filter
  input_unreadable = 3,  // the input cannot be opened or is not a capture file we can read
  input_damaged = 4,   // the input is damaged part-way: results cover what came before
  no_privilege = 5,    // live probing without CAP_NET_RAW
  network = 6,         // interface or route problems during live probing
  output = 7,          // an output file could not be written
  interrupted = 130,   // SIGINT/SIGTERM: results so far were printed, marked interrupted
};

class Failure : public std::runtime_error {
 public:
  Failure(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  [[nodiscard]] ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

}  // namespace synprobe
