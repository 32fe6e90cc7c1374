// A parallel loop over block indices, run by whichever threads show up: the thread that
// publishes the job and any thread that is waiting for the next round and calls help().
// It never needs a particular thread to arrive, so a descheduled thread cannot stall it.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

namespace localsgd::core {

inline void cpu_pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

class BlockJob {
 public:
  // Runs body(i) for every block i, helped by threads calling help(); returns when all
  // blocks are done. Only one thread at a time may call run(). `body` must not throw:
  // helpers may still be running it when the thread that threw would return.
  template <class Body>
  void run(std::size_t total, Body& body) {
    if (total <= 1 || total > kMaxBlocks) {  // nothing to share, or more than a claim holds
      for (std::size_t i = 0; i < total; ++i) body(i);
      return;
    }
    context_.store(&body, std::memory_order_relaxed);
    call_.store(&invoke<Body>, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    epoch_ = (epoch_ + 1) & kEpochMask;
    next_.store(pack(epoch_, total, 0), std::memory_order_release);  // publishes the above
    help();
    // The last blocks are being summed by helpers; a helper that lost its core is waited
    // for politely.
    for (int spins = 0; done_.load(std::memory_order_acquire) < total; ++spins) {
      if (spins < 1024)
        cpu_pause();
      else
        std::this_thread::yield();
    }
  }

  // Claims and runs blocks of the current job, if any are left. A claim is a CAS on one
  // word holding (epoch, total, index): the job's size travels with the claim, so a
  // thread that read a finished job's word can neither claim its (exhausted) range nor
  // mistake the next job's size for it (it once did: it claimed "block total" of the old
  // job with the new job's body and size, ran a block twice and counted one too many, so
  // the round went on while a worker was still being updated). The body is read after
  // the claim, when the job cannot end before this block is counted.
  void help() {
    std::uint64_t current = next_.load(std::memory_order_acquire);
    while (index_of(current) < total_of(current)) {
      if (next_.compare_exchange_weak(current, current + 1, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        call_.load(std::memory_order_relaxed)(context_.load(std::memory_order_relaxed),
                                              static_cast<std::size_t>(index_of(current)));
        done_.fetch_add(1, std::memory_order_release);
        current = next_.load(std::memory_order_acquire);
      }
    }
  }

 private:
  // The claim word: epoch (22 bits) | total (21 bits) | index (21 bits). The epoch tells
  // apart jobs of the same size; it wraps after 4 M jobs, and a claim would be confused
  // only by a thread stalled between its load and its CAS across exactly that many.
  static constexpr int kCountBits = 21;
  static constexpr std::uint64_t kCountMask = (std::uint64_t{1} << kCountBits) - 1;
  static constexpr std::uint64_t kEpochMask = (std::uint64_t{1} << (64 - 2 * kCountBits)) - 1;
  static constexpr std::size_t kMaxBlocks = kCountMask;

  static std::uint64_t pack(std::uint64_t epoch, std::uint64_t total, std::uint64_t index) {
    return epoch << (2 * kCountBits) | total << kCountBits | index;
  }
  static std::uint64_t total_of(std::uint64_t word) { return (word >> kCountBits) & kCountMask; }
  static std::uint64_t index_of(std::uint64_t word) { return word & kCountMask; }

  template <class Body>
  static void invoke(void* body, std::size_t i) {
    (*static_cast<Body*>(body))(i);
  }

  std::uint64_t epoch_ = 0;  // written by the running thread only
  alignas(64) std::atomic<std::uint64_t> next_{0};
  alignas(64) std::atomic<std::size_t> done_{0};
  std::atomic<void*> context_{nullptr};
  std::atomic<void (*)(void*, std::size_t)> call_{nullptr};
};

}  // namespace localsgd::core
