// Errors the core raises, and the process exit codes they map to (README "Output and exit codes").
//
// Data errors come from the SDK (localsgd::DataError, thrown by readers) and parameter
// errors too (localsgd::ParamError); these are the core's own.
#pragma once

#include <cstdio>
#include <stdexcept>
#include <string>

namespace localsgd {

// A measured number in a message, to four significant digits ("100", "0.01463"): exact
// values a user typed are echoed with format_number instead.
inline std::string brief_number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

enum ExitCode : int {
  kExitOk = 0,
  kExitRuntime = 1,  // divergence, internal error
  kExitUsage = 2,    // command line, config, plugin parameters
  kExitData = 3,     // bad data or file
  kExitPlugin = 4,   // cannot load, wrong ABI, exception escaping a plugin
  kExitSigint = 130,
  kExitSigterm = 143,
};

// A mistake in how the tool was called.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A plugin that cannot be found, loaded or trusted, or that failed.
class PluginError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The run itself failed (diverged, step size too large for the lazy L2 update, ...).
class RuntimeFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The iterates or their averages became non-finite (exit 1, as a RuntimeFailure); train
// adds the step size to try.
class Diverged : public RuntimeFailure {
 public:
  using RuntimeFailure::RuntimeFailure;
};

// Another process of an MPI run failed: its exit code and message, so that every rank
// stops with the same code and rank 0 can print what went wrong.
class RankFailure : public std::runtime_error {
 public:
  RankFailure(int exit_code, const std::string& message)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// A signal (SIGINT, SIGTERM) ended the run early, after its model, checkpoint and summary
// were written: exit 130 or 143 with a message saying where the run stopped.
class Interrupted : public std::runtime_error {
 public:
  Interrupted(int exit_code, const std::string& message)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// Maps any exception to its exit code and the one-line message to print after
// "localsgd: error: ". Call from a catch (...) block.
struct ErrorReport {
  int exit_code;
  std::string message;
};
ErrorReport describe_current_exception();

}  // namespace localsgd
