// When a runner saves a checkpoint and when it stops for a signal: one implementation of
// EngineConfig::Checkpoints for the synchronous and the asynchronous runner.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>

#include "localsgd/core/engine/engine.hpp"

namespace localsgd::core {

class CheckpointClock {
 public:
  CheckpointClock(const EngineConfig::Checkpoints& config, std::int64_t start)
      : config_(config), next_step_(next_multiple(start)), last_save_(Clock::now()) {}

  // The step by which a worker at step `from` must reach a boundary and poll again (see
  // kInterruptPoll): the next scheduled checkpoint, or sooner when a signal or the wall
  // clock may end the wait. Always after `from`: in an asynchronous run the schedule counts
  // the workers' mean step, which a fast worker may already have passed. Stopping at a
  // boundary never changes a run.
  std::int64_t next_poll(std::int64_t from) const {
    const bool watching = config_.interrupt != nullptr || config_.every_seconds > 0;
    const std::int64_t poll = watching ? from + kInterruptPoll : kNever;
    return next_step_ > from ? std::min(next_step_, poll) : poll;
  }

  // The signal that asks the run to stop (SIGINT, SIGTERM), or 0.
  int interrupt() const {
    return config_.interrupt != nullptr ? config_.interrupt->load(std::memory_order_relaxed) : 0;
  }

  // At a boundary after `step` steps: whether a checkpoint is due (scheduled, by time, or
  // because the run is being interrupted). The caller saves, then calls saved().
  bool due(std::int64_t step) const {
    if (!config_.save) return false;
    if (step >= next_step_ || interrupt() != 0) return true;
    return config_.every_seconds > 0 &&
           std::chrono::duration<double>(Clock::now() - last_save_).count() >=
               config_.every_seconds;
  }

  void saved(std::int64_t step) {
    next_step_ = next_multiple(step);
    last_save_ = Clock::now();
  }

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

  // The first multiple of `every` after `step` (never when every is 0).
  std::int64_t next_multiple(std::int64_t step) const {
    return config_.every > 0 ? (step / config_.every + 1) * config_.every : kNever;
  }

  const EngineConfig::Checkpoints& config_;
  std::int64_t next_step_;
  Clock::time_point last_save_;
};

}  // namespace localsgd::core
