// Asynchronous Local SGD (Stich 2019, §5) in simulated time.
//
// Worker k takes a local step every 1/speed_k time units and averages on its own clock,
// after the steps its schedule names for it (SyncContext::worker = k, step = its own
// step count). At an average, the worker's model goes to the server, which keeps the
// latest model of every worker; the worker continues from the mean of those latest
// models, stale or not. Arrivals at the same simulated time form one batch: all of them
// deliver before any of them receives, so with equal speeds every batch holds all K
// workers and the run is bitwise the synchronous one. A worker whose next delivery would
// put it more than max_staleness rounds ahead of the slowest unfinished worker waits
// (in simulated time) until it may go on; staleness is that lead, recorded per delivery.
//
// The simulation is serial and depends on (seed, K, speeds) only, never on real timing.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "localsgd/core/engine.hpp"
#include "localsgd/core/errors.hpp"
#include "workers.hpp"

namespace localsgd::core {

template <class Worker>
class AsyncRun {
 public:
  AsyncRun(std::vector<Worker>& workers, Schedule& schedule, const StepEnvironment& env,
           const EngineConfig& config, std::vector<double>& global)
      : workers_(workers),
        schedule_(schedule),
        env_(env),
        config_(config),
        global_(global),
        K_(workers.size()),
        d_(global.size()),
        latest_(K_, global),
        state_(K_),
        held_(K_) {}

  // Runs to T; returns the rounds (batches of arrivals) and fills the staleness stats.
  std::int64_t execute(std::int64_t& max_staleness_seen, double& mean_staleness) {
    for (std::size_t k = 0; k < K_; ++k) start_phase(k, 0.0);
    std::int64_t rounds = 0, staleness_sum = 0, staleness_count = 0;
    std::vector<double> mean(d_);
    while (true) {
      // The next batch: every running worker whose phase ends first.
      double now = std::numeric_limits<double>::infinity();
      for (const State& s : state_)
        if (s.running) now = std::min(now, s.phase_end_time);
      if (!std::isfinite(now)) break;
      std::vector<std::size_t> batch;
      for (std::size_t k = 0; k < K_; ++k)
        if (state_[k].running && state_[k].phase_end_time == now) batch.push_back(k);
      for (std::size_t k : batch) {  // deliver
        std::fill(latest_[k].begin(), latest_[k].end(), 0.0);
        workers_[k].add_model_to(latest_[k], 0, d_);
        state_[k].running = false;
        ++state_[k].round;
      }
      std::fill(mean.begin(), mean.end(), 0.0);  // receive: the mean of the latest models
      for (std::size_t k = 0; k < K_; ++k)
        for (std::size_t j = 0; j < d_; ++j) mean[j] += latest_[k][j];
      for (double& v : mean) {
        v /= static_cast<double>(K_);
        if (!std::isfinite(v)) throw RuntimeFailure("diverged: the average has non-finite entries");
      }
      ++rounds;
      std::int64_t slowest = std::numeric_limits<std::int64_t>::max();
      for (const State& s : state_) slowest = std::min(slowest, s.round);
      for (std::size_t k : batch) {
        const std::int64_t staleness = state_[k].round - slowest;
        max_staleness_seen = std::max(max_staleness_seen, staleness);
        staleness_sum += staleness;
        ++staleness_count;
      }
      // Receivers adopt the mean when they start their next phase, perhaps after a wait.
      const auto shared_mean = std::make_shared<const std::vector<double>>(mean);
      for (std::size_t k : batch) {
        workers_[k].reset_later(shared_mean->data());
        held_[k] = shared_mean;
        state_[k].ready_time = now;
        if (state_[k].step >= config_.steps)
          state_[k].finished = true;
        else
          state_[k].waiting = true;
      }
      global_ = mean;
      slowest = std::numeric_limits<std::int64_t>::max();  // the bound counts unfinished workers
      for (const State& s : state_)
        if (!s.finished) slowest = std::min(slowest, s.round);
      // Resume every waiting worker that the staleness bound lets go on.
      for (std::size_t k = 0; k < K_; ++k) {
        State& s = state_[k];
        // Its next delivery would be round + 1: start only if that stays within the bound.
        if (!s.waiting || s.round + 1 - slowest > config_.async.max_staleness) continue;
        s.waiting = false;
        start_phase(k, std::max(s.ready_time, now));
        held_[k].reset();
      }
    }
    mean_staleness = staleness_count ? static_cast<double>(staleness_sum) / staleness_count : 0.0;
    return rounds;
  }

 private:
  struct State {
    std::int64_t step = 0, round = 0;
    double phase_end_time = 0, ready_time = 0;
    bool running = false, waiting = false, finished = false;
  };

  void start_phase(std::size_t k, double start_time) {
    State& s = state_[k];
    const SyncContext ctx{s.step,
                          s.round,
                          env_.step_size.at(s.step > 0 ? s.step - 1 : 0),
                          static_cast<std::int64_t>(K_),
                          config_.steps,
                          nullptr,
                          static_cast<std::int64_t>(k)};
    const SyncEvent next = schedule_.next(ctx);
    if (next.step <= s.step)
      throw PluginError("schedule asked to sync at a step that is not ahead");
    if (next.group_size != 0)
      throw UsageError(
          "--async averages all workers; group schedules (e.g. hierarchical) are not supported");
    const std::int64_t end = std::min(next.step, config_.steps);
    workers_[k].run(env_, s.step, end);
    s.phase_end_time = start_time + static_cast<double>(end - s.step) / config_.async.speeds[k];
    s.step = end;
    s.running = true;
  }

  std::vector<Worker>& workers_;
  Schedule& schedule_;
  const StepEnvironment& env_;
  const EngineConfig& config_;
  std::vector<double>& global_;
  const std::size_t K_, d_;
  std::vector<std::vector<double>> latest_;
  std::vector<State> state_;
  std::vector<std::shared_ptr<const std::vector<double>>> held_;
};

}  // namespace localsgd::core
