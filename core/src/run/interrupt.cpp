#include "localsgd/core/run/interrupt.hpp"

#include <csignal>
#include <cstdlib>

#include "localsgd/core/io/atomic_file.hpp"

namespace localsgd::core {
namespace {

// Lock-free atomics are async-signal-safe; the handler touches nothing else but unlink.
std::atomic<int> received{0};
std::atomic<bool> graceful{false};
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<bool>::is_always_lock_free);

extern "C" void on_signal(int signal) {
  int none = 0;
  if (graceful.load() && received.compare_exchange_strong(none, signal)) return;
  remove_partial_output();
  ::_Exit(exit_code_of_signal(signal));
}

}  // namespace

void install_signal_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
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

}  // namespace localsgd::core
