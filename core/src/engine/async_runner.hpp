// Asynchronous Local SGD (Stich 2019, §5) in simulated time.
//
// Worker k takes a local step every 1/speed_k time units and averages on its own clock,
// after the steps the schedule names for it (asked through the ScheduleDriver with the
// worker's own step and round). At an average the worker's model goes to the server,
// which keeps the latest model of every worker; the new server model is the mean of
// those latest models, stale or not, combined with the previous server model by the
// schedule if it has its own combination (outer-nesterov); the worker continues from it.
// Arrivals at the same simulated time form one batch: all of them deliver before any of
// them receives, so with equal speeds every batch holds all K workers and the run is
// bitwise the synchronous one. A worker whose next delivery would put it more than
// max_staleness rounds ahead of the slowest unfinished worker waits (in simulated time)
// until it may go on; staleness is that lead, recorded per delivery.
//
// A phase is computed when it is delivered, and the phases of one batch are independent,
// so they run in parallel; the result depends on (seed, K, speeds) only, never on real
// timing or threads. A monitor is consulted after each batch, when the workers' mean step
// count has reached its next evaluation step: x̄ is the server model, x̂ weights every
// worker's iterates up to its last delivery.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "checkpoint_clock.hpp"
#include "localsgd/core/engine/engine.hpp"
#include "localsgd/core/errors.hpp"
#include "schedule_driver.hpp"
#include "sync_runner.hpp"
#include "worker_pool.hpp"

namespace localsgd::core {

template <class Worker>
class AsyncRunner {
 public:
  AsyncRunner(WorkerPool<Worker>& pool, ScheduleDriver& schedule, const StepEnvironment& env,
              const EngineConfig& config, Monitor* monitor,
              const std::function<double(const std::vector<double>&)>& objective_at)
      : pool_(pool),
        schedule_(schedule),
        env_(env),
        config_(config),
        monitor_(monitor),
        objective_at_(objective_at),
        K_(static_cast<std::size_t>(pool.size())),
        d_(pool.dimension()),
        latest_(K_, pool.global()),
        state_(K_),
        held_(K_) {}

  // Runs to T (or the monitor's stop); returns the steps of the run (T, or the mean step
  // count at the stop).
  std::int64_t execute(tbb::task_arena& arena) {
    std::int64_t next_evaluation = std::numeric_limits<std::int64_t>::max();
    if (const EngineState* resume = config_.checkpoints.resume; resume != nullptr) {
      restore(*resume);
      if (monitor_ != nullptr) next_evaluation = resume->next_evaluation;
    } else {
      for (std::size_t k = 0; k < K_; ++k) start_phase(k, 0.0);
      if (monitor_ != nullptr) next_evaluation = monitor_->next_evaluation(0);
    }
    if (next_evaluation <= mean_step())
      throw RuntimeFailure("evaluation schedule does not advance");
    checkpoint_clock_.emplace(config_.checkpoints, mean_step());
    std::vector<double> mean(d_);
    std::int64_t steps = config_.steps;
    while (true) {
      // The next batch: every running worker whose phase ends first.
      double now = std::numeric_limits<double>::infinity();
      for (const State& s : state_)
        if (s.running) now = std::min(now, s.phase_end_time);
      if (!std::isfinite(now)) break;
      std::vector<std::size_t> batch;
      for (std::size_t k = 0; k < K_; ++k)
        if (state_[k].running && state_[k].phase_end_time == now) batch.push_back(k);
      if (!run_phases(arena, batch, next_evaluation)) {
        steps = mean_step();
        break;
      }
      const auto sync_start = Clock::now();
      for (std::size_t k : batch) {  // deliver
        std::fill(latest_[k].begin(), latest_[k].end(), 0.0);
        pool_.workers()[k].add_model_to(latest_[k], 0, d_);
        state_[k].running = false;
        state_[k].step = state_[k].phase_end;
        ++state_[k].round;
      }
      std::fill(mean.begin(), mean.end(), 0.0);  // the server: the mean of the latest models
      for (std::size_t k = 0; k < K_; ++k)
        for (std::size_t j = 0; j < d_; ++j) mean[j] += latest_[k][j];
      for (double& v : mean) {
        v /= static_cast<double>(K_);
        if (!std::isfinite(v)) throw_diverged("the average");
      }
      schedule_.combine(pool_.global(), mean);
      ++rounds_;
      std::int64_t slowest = std::numeric_limits<std::int64_t>::max();
      for (const State& s : state_) slowest = std::min(slowest, s.round);
      for (std::size_t k : batch) {
        const std::int64_t staleness = state_[k].round - slowest;
        max_staleness_ = std::max(max_staleness_, staleness);
        staleness_sum_ += staleness;
        ++staleness_count_;
      }
      // Receivers adopt the mean when they start their next phase, perhaps after a wait.
      const auto shared_mean = std::make_shared<const std::vector<double>>(mean);
      for (std::size_t k : batch) {
        pool_.workers()[k].reset_later(shared_mean->data());
        held_[k] = shared_mean;
        state_[k].ready_time = now;
        if (state_[k].step >= config_.steps)
          state_[k].finished = true;
        else
          state_[k].waiting = true;
      }
      pool_.global() = mean;
      times_.sync_seconds += seconds_since(sync_start);
      if (mean_step() >= next_evaluation) {
        const auto evaluation_start = Clock::now();
        const std::int64_t step = mean_step();
        const bool stop = evaluate(step);
        next_evaluation = monitor_->next_evaluation(step);
        if (next_evaluation <= step) throw RuntimeFailure("evaluation schedule does not advance");
        times_.eval_seconds += seconds_since(evaluation_start);
        if (stop) {
          steps = step;
          break;
        }
      }
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
      }
      // Checkpoints and interruption, on the clock of the mean step count; a finished run
      // neither saves nor stops early.
      if (config_.steps_done != nullptr)
        config_.steps_done->store(mean_step(), std::memory_order_relaxed);
      if (mean_step() >= config_.steps) continue;
      if (checkpoint_or_stop(mean_step(), next_evaluation)) {
        steps = mean_step();
        break;
      }
    }
    mean_staleness_ =
        staleness_count_ ? static_cast<double>(staleness_sum_) / staleness_count_ : 0.0;
    return steps;
  }

  int interrupted() const { return interrupted_; }

  std::int64_t rounds() const { return rounds_; }
  std::int64_t max_staleness() const { return max_staleness_; }
  double mean_staleness() const { return mean_staleness_; }
  const RunTimes& times() const { return times_; }
  // Steps run by each worker: up to its last delivery, or to where a signal stopped it.
  std::vector<std::int64_t> worker_steps() const {
    std::vector<std::int64_t> steps;
    for (const State& s : state_) steps.push_back(s.executed);
    return steps;
  }

 private:
  using Clock = std::chrono::steady_clock;

  struct State {
    // Delivered steps; steps run of the current phase (a long phase runs in chunks, so a
    // checkpoint or a signal may fall inside it); the phase's last step.
    std::int64_t step = 0, executed = 0, phase_end = 0, round = 0;
    double phase_end_time = 0, ready_time = 0;
    bool running = false, waiting = false, finished = false;
  };

  static double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
  }

  // The workers' mean step count, the clock of progress events and targets.
  std::int64_t mean_step() const {
    std::int64_t total = 0;
    for (const State& s : state_) total += s.step;
    return total / static_cast<std::int64_t>(K_);
  }

  bool evaluate(std::int64_t step) {
    const std::vector<std::int64_t> steps = worker_steps();
    const std::vector<double> x_hat = pool_.weighted_average(env_.shift, steps);
    return monitor_->evaluate({step, rounds_, x_hat, pool_.global()});
  }

  // The state between two batches: clocks, the server's models, the workers.
  EngineState save_state(std::int64_t next_evaluation) const {
    EngineState state;
    state.async = true;
    state.step = mean_step();
    state.rounds = rounds_;
    state.next_evaluation = next_evaluation;
    pool_.save(state);
    state.schedule_record = schedule_.recorded();
    state.combine_state = schedule_.combine_state();
    for (const State& s : state_)
      state.clocks.push_back({s.step, s.executed, s.phase_end, s.round, s.phase_end_time,
                              s.ready_time, s.running, s.waiting, s.finished});
    state.latest = latest_;
    state.max_staleness = max_staleness_;
    state.staleness_sum = staleness_sum_;
    state.staleness_count = staleness_count_;
    return state;
  }

  void restore(const EngineState& state) {
    if (!state.async || state.clocks.size() != K_ || state.latest.size() != K_)
      throw std::invalid_argument("the saved asynchronous state does not fit this run");
    schedule_.restore(state.schedule_record, state.combine_state, static_cast<std::int64_t>(K_),
                      config_.steps);
    pool_.restore(state);
    for (std::size_t k = 0; k < K_; ++k) {
      const AsyncClock& c = state.clocks[k];
      state_[k] = {c.step,       c.executed, c.phase_end, c.round,   c.phase_end_time,
                   c.ready_time, c.running,  c.waiting,   c.finished};
      if (c.executed < c.step || c.executed > c.phase_end)
        throw std::invalid_argument("a saved worker clock is inconsistent");
      if (state.latest[k].size() != d_)
        throw std::invalid_argument("a saved server model does not fit this run");
    }
    latest_ = state.latest;
    rounds_ = state.rounds;
    max_staleness_ = state.max_staleness;
    staleness_sum_ = state.staleness_sum;
    staleness_count_ = state.staleness_count;
  }

  // The phases of one batch, each from the model its worker adopted when it started.
  // Runs the batch's phases, in chunks that end where the checkpoint clock polls (a worker
  // continues where it stopped, so chunks do not change the run). Returns false when a
  // signal stopped the run between two chunks, after the checkpoint.
  bool run_phases(tbb::task_arena& arena, const std::vector<std::size_t>& batch,
                  std::int64_t next_evaluation) {
    while (true) {
      auto run = [&](std::size_t i) {
        State& s = state_[batch[i]];
        const std::int64_t end = std::min(s.phase_end, checkpoint_clock_->next_poll(s.executed));
        pool_.workers()[batch[i]].run(env_, s.executed, end);
        s.executed = end;
      };
      if (batch.size() == 1) {
        run(0);
      } else {
        arena.execute([&] { tbb::parallel_for(std::size_t{0}, batch.size(), run); });
      }
      for (std::size_t k : batch) held_[k].reset();  // adopted: the mean may go
      bool done = true;
      for (std::size_t k : batch) done = done && state_[k].executed == state_[k].phase_end;
      if (done) return true;
      if (checkpoint_or_stop(mean_executed(), next_evaluation)) return false;
    }
  }

  // At a boundary after `step` (mean) steps: saves a checkpoint if one is due; returns true
  // when a signal stops the run (after that checkpoint).
  bool checkpoint_or_stop(std::int64_t step, std::int64_t next_evaluation) {
    const int interrupt = checkpoint_clock_->interrupt();
    if (checkpoint_clock_->due(step)) {
      config_.checkpoints.save(save_state(next_evaluation));
      checkpoint_clock_->saved(step);
    }
    if (interrupt != 0) interrupted_ = interrupt;
    return interrupt != 0;
  }

  // The workers' mean count of steps run, delivered or not.
  std::int64_t mean_executed() const {
    std::int64_t total = 0;
    for (const State& s : state_) total += s.executed;
    return total / static_cast<std::int64_t>(K_);
  }

  void start_phase(std::size_t k, double start_time) {
    State& s = state_[k];
    const SyncEvent next = schedule_.next(
        s.step, s.round, env_.step_size.at(s.step > 0 ? s.step - 1 : 0),
        static_cast<std::int64_t>(K_), config_.steps, [&] { return objective_at_(pool_.global()); },
        static_cast<std::int64_t>(k));
    if (next.group_size != 0)  // the driver already refused schedules that declare them
      throw PluginError("schedule '" + schedule_.name() +
                        "' returned a group sync in an --async run");
    s.executed = s.step;
    s.phase_end = std::min(next.step, config_.steps);
    s.phase_end_time =
        start_time + static_cast<double>(s.phase_end - s.step) / config_.async.speeds[k];
    s.running = true;
  }

  WorkerPool<Worker>& pool_;
  ScheduleDriver& schedule_;
  const StepEnvironment& env_;
  const EngineConfig& config_;
  Monitor* const monitor_;
  const std::function<double(const std::vector<double>&)>& objective_at_;
  const std::size_t K_, d_;
  std::vector<std::vector<double>> latest_;
  std::vector<State> state_;
  std::vector<std::shared_ptr<const std::vector<double>>> held_;
  std::optional<CheckpointClock> checkpoint_clock_;  // set when the run starts
  std::int64_t rounds_ = 0, max_staleness_ = 0;
  std::int64_t staleness_sum_ = 0, staleness_count_ = 0;
  double mean_staleness_ = 0;
  int interrupted_ = 0;
  RunTimes times_;
};

}  // namespace localsgd::core
