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
    if (total <= 1) {
      for (std::size_t i = 0; i < total; ++i) body(i);
      return;
    }
    context_.store(&body, std::memory_order_relaxed);
    call_.store(&invoke<Body>, std::memory_order_relaxed);
    total_.store(total, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    epoch_ += 1;
    next_.store(epoch_ << 32, std::memory_order_release);  // publishes the fields above
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

  // Claims and runs blocks of the current job, if any are left. A claim is a CAS on
  // (epoch, index), so a thread that read a previous job's fields never runs them on
  // this job's blocks.
  void help() {
    std::uint64_t current = next_.load(std::memory_order_acquire);
    while (true) {
      const std::size_t total = total_.load(std::memory_order_relaxed);
      void* context = context_.load(std::memory_order_relaxed);
      auto* call = call_.load(std::memory_order_relaxed);
      const std::uint64_t index = current & 0xffffffffu;
      if (call == nullptr || index >= total) return;
      if (next_.compare_exchange_weak(current, current + 1, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        call(context, static_cast<std::size_t>(index));
        done_.fetch_add(1, std::memory_order_release);
        current = next_.load(std::memory_order_acquire);
      }
    }
  }

 private:
  template <class Body>
  static void invoke(void* body, std::size_t i) {
    (*static_cast<Body*>(body))(i);
  }

  std::uint64_t epoch_ = 0;  // written by the running thread only
  alignas(64) std::atomic<std::uint64_t> next_{0};
  alignas(64) std::atomic<std::size_t> done_{0};
  std::atomic<std::size_t> total_{0};
  std::atomic<void*> context_{nullptr};
  std::atomic<void (*)(void*, std::size_t)> call_{nullptr};
};

}  // namespace localsgd::core
