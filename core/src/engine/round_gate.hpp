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

#include <atomic>
#include <cstdint>

#include "block_job.hpp"

namespace localsgd::core {

class RoundGate {
 public:
  std::int64_t open_round() const { return round_.load(std::memory_order_acquire); }

  // Opens `round` (and so every round before it); wakes the sleepers.
  void open(std::int64_t round) {
    // seq_cst here and around the sleeper count in wait_for: either the sleeper sees the
    // new round before it blocks, or this thread sees the sleeper and wakes it.
    round_.store(round, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) round_.notify_all();
  }

  // Returns when `round` is open or `stop()` is true; helps `job` while spinning.
  template <class Stop>
  void wait_for(std::int64_t round, BlockJob& job, Stop&& stop) {
    for (int spins = 0; spins < kSpins; ++spins) {
      if (open_round() >= round || stop()) return;
      job.help();
      cpu_pause();
    }
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    while (true) {
      const std::int64_t seen = round_.load(std::memory_order_seq_cst);
      if (seen >= round || stop()) break;
      round_.wait(seen, std::memory_order_seq_cst);
    }
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
  }

 private:
  // About 20-60 microseconds of pause instructions: longer than a round's usual
  // imbalance, far shorter than a scheduler time slice.
  static constexpr int kSpins = 4000;

  alignas(64) std::atomic<std::int64_t> round_{0};
  alignas(64) std::atomic<int> sleepers_{0};
};

}  // namespace localsgd::core
