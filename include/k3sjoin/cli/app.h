#pragma once

namespace k3sjoin::cli {

// Process exit codes, documented in README.md.
enum ExitCode : int {
  kExitOk = 0,           // every host and check succeeded
  kExitFailed = 1,       // a host or a check failed
  kExitUsage = 2,        // bad command line or invalid inventory
  kExitInterrupted = 130,
};

// Parses the command line and runs the command; returns the process exit code.
int run(int argc, char** argv);

}  // namespace k3sjoin::cli
