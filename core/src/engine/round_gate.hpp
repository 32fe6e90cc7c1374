// Where threads wait for the next round of a synchronous run to open.
//
// Rounds are short (tens of microseconds at small H and b), so a waiter first spins with
// the CPU's pause hint, helping with the sync's averaging blocks if there are any: when
// the threads have their own cores, the round opens within microseconds and a sleep would
// cost more than the wait. After a bounded spin it blocks on the round counter (C++20
// atomic wait: a futex on Linux), so a thread that has nothing to do gives its core away
// instead of burning it in sched_yield storms, which matters when another process shares
// the core or there are more threads than cores.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>

#include "block_job.hpp"

namespace localsgd::core {

class RoundGate {
 public:
  std::int64_t open_round() const { return round_.load(std::memory_order_acquire); }

  // Opens `round` (and so every round before it); wakes the sleepers.
  void open(std::int64_t round) {
    round_.store(round, std::memory_order_release);
    // seq_cst here and around the sleeper count in wait_for: either the sleeper sees the
    // new generation before it blocks, or this thread sees the sleeper and wakes it.
    generation_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) futex_wake_all(generation_);
  }

  // Returns when `round` is open or `stop()` is true; helps `job` while spinning. Blocks
  // at once while `sleep_now()` is true (the round's owner runs a long serial section,
  // e.g. an evaluation that wants every core for its own parallel loops).
  template <class Stop, class SleepNow>
  void wait_for(std::int64_t round, BlockJob& job, Stop&& stop, SleepNow&& sleep_now) {
    const auto give_up = std::chrono::steady_clock::now() + kSpinTime;
    for (int spins = 1;; ++spins) {
      if (open_round() >= round || stop()) return;
      if (sleep_now()) break;
      job.help();
      cpu_pause();
      if (spins % 64 == 0 && std::chrono::steady_clock::now() > give_up) break;
    }
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    while (true) {
      const std::uint32_t seen = generation_.load(std::memory_order_seq_cst);
      if (open_round() >= round || stop()) break;
      futex_wait(generation_, seen);  // returns at once if the generation moved on
    }
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
  }

 private:
  // The futex calls themselves, on a 32-bit word: the kernel compares the word with
  // `seen` under its own lock, so a wake between our check and our sleep is never lost.
  // (std::atomic<std::int64_t>::wait goes through libstdc++'s proxy waiter table; it was
  // suspected in a hang here that turned out to be the claim race fixed in
  // sync_runner.hpp, and the raw call keeps the protocol visible in one place.)
  static void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t seen) {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, seen, nullptr,
            nullptr, 0);
  }
  static void futex_wake_all(std::atomic<std::uint32_t>& word) {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT_MAX,
            nullptr, nullptr, 0);
  }

  // Spin this long before blocking: longer than a typical round (tens of microseconds),
  // so that waking a sleeper (a futex wake and, in a VM, an interrupt to another virtual
  // CPU: tens of microseconds here) is rare; far shorter than a scheduler time slice.
  static constexpr std::chrono::microseconds kSpinTime{200};

  alignas(64) std::atomic<std::int64_t> round_{0};
  alignas(64) std::atomic<std::uint32_t> generation_{0};
  alignas(64) std::atomic<int> sleepers_{0};
};

}  // namespace localsgd::core
