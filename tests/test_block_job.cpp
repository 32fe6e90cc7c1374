// BlockJob (core/src/engine/block_job.hpp), the parallel loop a sync shares with the
// threads waiting for the next round: every block of every job runs exactly once, and
// run() returns only when all of them have finished. Back-to-back jobs of different
// sizes, with helpers polling all the time, are where a claim on a finished job's word
// once ran a block of the next job twice and let run() return early (results of large
// sparse runs then differed from run to run).
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

#include "engine/block_job.hpp"

namespace {

TEST(BlockJob, EveryBlockOnceAndAllDoneWhenRunReturns) {
  localsgd::core::BlockJob job;
  std::atomic<bool> stop{false};
  std::vector<std::thread> helpers;
  for (int h = 0; h < 3; ++h)
    helpers.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) job.help();
    });

  constexpr std::size_t kMax = 9;
  std::atomic<int> runs[kMax];
  std::atomic<int> in_flight{0};
  int failures = 0;
  for (int j = 0; j < 20000 && failures == 0; ++j) {
    const std::size_t total = j % 2 == 0 ? 2 : kMax;  // alternate sizes: the old bug's case
    for (auto& r : runs) r.store(0, std::memory_order_relaxed);
    auto body = [&](std::size_t i) {
      in_flight.fetch_add(1, std::memory_order_relaxed);
      runs[i].fetch_add(1, std::memory_order_relaxed);
      in_flight.fetch_sub(1, std::memory_order_release);
    };
    job.run(total, body);
    if (in_flight.load(std::memory_order_acquire) != 0) {
      ADD_FAILURE() << "job " << j << ": run() returned while a block was running";
      ++failures;
    }
    for (std::size_t i = 0; i < kMax; ++i) {
      const int expected = i < total ? 1 : 0;
      if (runs[i].load() != expected) {
        ADD_FAILURE() << "job " << j << " (size " << total << "): block " << i << " ran "
                      << runs[i].load() << " times";
        ++failures;
      }
    }
  }
  stop = true;
  for (auto& h : helpers) h.join();
}

}  // namespace
