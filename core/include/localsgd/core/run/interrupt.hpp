// SIGINT and SIGTERM (README "Output and exit codes": 130 and 143).
//
// By default a signal ends the process at once, after removing the temporary file of an
// output being written (no partial file is ever left). While a GracefulInterrupts object
// lives (a train run; under MPI on every rank), the first signal only raises a flag that the engine
// polls between steps: the run stops at the next step boundary, writes its checkpoint (with
// --checkpoint), its model and summary, and the process exits 130 or 143. A second signal
// ends the process at once, as by default. Loading data, where nothing could be kept,
// is an ImmediateInterrupts section even then.
#pragma once

#include <atomic>

namespace localsgd::core {

void install_signal_handlers();

// The exit code of a process ended by `signal`: 130 for SIGINT, 143 for SIGTERM.
int exit_code_of_signal(int signal);

// The process is ending with `exit_code` (an error it reported, or that rank 0 reported
// for every rank): from now on a signal ends it with that code and says nothing. Under
// mpirun the rank that exits first has the others sent SIGTERM, which would otherwise add
// an "interrupted" line to the one error every rank stopped for.
void exiting_with(int exit_code);

class GracefulInterrupts {
 public:
  GracefulInterrupts();
  ~GracefulInterrupts();
  GracefulInterrupts(const GracefulInterrupts&) = delete;
  GracefulInterrupts& operator=(const GracefulInterrupts&) = delete;

  // The signal received while graceful (0: none), or null when no object lives.
  static const std::atomic<int>* flag();
};

// While it lives, a signal ends the process at once even where a GracefulInterrupts lives:
// for work that leaves nothing worth stopping gracefully for (loading a data set), so that
// a signal is not held until the work is done and then misreported as stopping what comes
// next. A signal that arrived gracefully before it began stays in flag().
class ImmediateInterrupts {
 public:
  ImmediateInterrupts();
  ~ImmediateInterrupts();
  ImmediateInterrupts(const ImmediateInterrupts&) = delete;
  ImmediateInterrupts& operator=(const ImmediateInterrupts&) = delete;

 private:
  bool was_immediate_;
};

}  // namespace localsgd::core
