// Coordination between the threads of one run, without a task launch per round.
//
// The engine starts one long-lived task per thread. Work comes in two shapes:
//  * RoundItems: the (round, worker) items of the local phases, claimed in order from one
//    counter. A thread that claims an item of a round that is not open yet waits, and
//    whoever completes the last item of a round runs the sync and opens the next one.
//    Because claims are handed out in order, every item of the lowest unfinished round is
//    held by a running thread, so the run cannot deadlock however many threads TBB
//    actually provides (one is enough).
//  * BlockJob: a sync's coordinate blocks (averaging), published by the syncing thread
//    and claimed by it and by any thread that is waiting for the next round.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>

namespace localsgd::core {

// Spin politely: pause first (cheap when the wait is short, as between rounds), then
// yield so that an oversubscribed machine is not starved.
class Backoff {
 public:
  void pause() {
    if (++count_ < 64) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    } else {
      std::this_thread::yield();
    }
  }

 private:
  int count_ = 0;
};

// A parallel loop over block indices [0, total) run by whichever threads show up.
class BlockJob {
 public:
  // Runs body(i) for every block i, helped by threads calling help(); returns when all
  // blocks are done. Only one thread at a time may call run().
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
    Backoff backoff;
    while (done_.load(std::memory_order_acquire) < total) backoff.pause();
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
  std::atomic<std::uint64_t> next_{0};
  std::atomic<std::size_t> done_{0};
  std::atomic<std::size_t> total_{0};
  std::atomic<void*> context_{nullptr};
  std::atomic<void (*)(void*, std::size_t)> call_{nullptr};
};

// First exception of any thread; the others stop at their next check.
class FirstError {
 public:
  void capture() {
    std::lock_guard lock(mutex_);
    if (!error_) error_ = std::current_exception();
    failed_.store(true, std::memory_order_release);
  }
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::mutex mutex_;
  std::exception_ptr error_;
  std::atomic<bool> failed_{false};
};

}  // namespace localsgd::core
