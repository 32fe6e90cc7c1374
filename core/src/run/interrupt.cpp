#include "localsgd/core/run/interrupt.hpp"

#include <csignal>
#include <cstdlib>

#include <unistd.h>

#include "localsgd/core/io/atomic_file.hpp"

namespace localsgd::core {
namespace {

// Lock-free atomics are async-signal-safe; the handler touches nothing else but unlink and
// write.
std::atomic<int> received{0};
std::atomic<bool> graceful{false};
std::atomic<bool> immediate{false};  // an ImmediateInterrupts section (inside a graceful one)
std::atomic<int> exiting{-1};        // the exit code a process already ending will return
std::atomic<bool> stderr_is_terminal{false};  // isatty() is not async-signal-safe: asked once
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<bool>::is_always_lock_free);

extern "C" void on_signal(int signal) {
  if (const int code = exiting.load(); code >= 0) {
    remove_partial_output();
    ::_Exit(code);
  }
  int none = 0;
  if (graceful.load() && !immediate.load() && received.compare_exchange_strong(none, signal))
    return;
  remove_partial_output();
  // One line, so that an interrupted load or a second signal is not a silent exit 130
  // (write(2) is async-signal-safe; what it could not write is lost, as the exit follows).
  // On a terminal it first clears a progress line being drawn.
  static constexpr char kClear[] = "\r\x1b[K";
  static constexpr char kInt[] = "localsgd: interrupted by SIGINT\n";
  static constexpr char kTerm[] = "localsgd: interrupted by SIGTERM\n";
  const bool is_int = signal == SIGINT;
  if (stderr_is_terminal.load()) {
    [[maybe_unused]] const auto cleared = ::write(STDERR_FILENO, kClear, sizeof kClear - 1);
  }
  [[maybe_unused]] const auto written =
      ::write(STDERR_FILENO, is_int ? kInt : kTerm, (is_int ? sizeof kInt : sizeof kTerm) - 1);
  ::_Exit(exit_code_of_signal(signal));
}

}  // namespace

void install_signal_handlers() {
  stderr_is_terminal.store(::isatty(STDERR_FILENO) == 1);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

void exiting_with(int exit_code) {
  exiting.store(exit_code);
}

int exit_code_of_signal(int signal) {
  return signal == SIGINT ? 130 : 143;
}

GracefulInterrupts::GracefulInterrupts() {
  received.store(0);
  graceful.store(true);
}

GracefulInterrupts::~GracefulInterrupts() {
  graceful.store(false);
}

const std::atomic<int>* GracefulInterrupts::flag() {
  return graceful.load() ? &received : nullptr;
}

ImmediateInterrupts::ImmediateInterrupts() : was_immediate_(immediate.exchange(true)) {
  // A signal taken gracefully just before (between a command's start and its loading)
  // would otherwise wait for a step that a blocked read, e.g. of a FIFO no one writes,
  // never reaches: it ends the process now, as one arriving from here on does.
  if (const int signal = received.load(); signal != 0) on_signal(signal);
}

ImmediateInterrupts::~ImmediateInterrupts() {
  immediate.store(was_immediate_);
}

}  // namespace localsgd::core
