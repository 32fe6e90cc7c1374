// SIGINT and SIGTERM (README "Output and exit codes": 130 and 143).
//
// By default a signal ends the process at once, after removing the temporary file of an
// output being written (no partial file is ever left). While a GracefulInterrupts object
// lives (a train run; under MPI on every rank), the first signal only raises a flag that the engine
// polls between steps: the run stops at the next step boundary, writes its checkpoint (with
// --checkpoint), its model and summary, and the process exits 130 or 143. A second signal
// ends the process at once, as by default.
#pragma once

#include <atomic>

namespace localsgd::core {

void install_signal_handlers();

// The exit code of a process ended by `signal`: 130 for SIGINT, 143 for SIGTERM.
int exit_code_of_signal(int signal);

class GracefulInterrupts {
 public:
  GracefulInterrupts();
  ~GracefulInterrupts();
  GracefulInterrupts(const GracefulInterrupts&) = delete;
  GracefulInterrupts& operator=(const GracefulInterrupts&) = delete;

  // The signal received while graceful (0: none), or null when no object lives.
  static const std::atomic<int>* flag();
};

}  // namespace localsgd::core
