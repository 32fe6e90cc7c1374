// The synchronous runner: all workers share one clock and average at the same steps.
//
// A round is: every worker runs its local phase, then (if due) the workers average, the
// schedule is asked, the monitor evaluates, and the next phase opens. The run is served
// by P long-lived threads. Thread p prefers a fixed, contiguous set of workers, so a
// worker's model stays in one core's cache from round to round; each worker's phase is
// claimed once per round, and a thread that has run out of its own workers takes what is
// left of the others' (from the end of their lists), so a thread that lost its core to
// another process does not hold the round up. Whoever completes a round's last phase
// runs the sync and opens the next round; the others wait at a RoundGate (spin, then
// block), helping with the averaging blocks of large models. Every coordinate of an
// average is summed over the workers in worker order, so the result has the same bits
// whatever P is and whoever computes what.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <vector>

#include "block_job.hpp"
#include "checkpoint_clock.hpp"
#include "localsgd/core/engine/engine.hpp"
#include "localsgd/core/errors.hpp"
#include "round_gate.hpp"
#include "run_errors.hpp"
#include "schedule_driver.hpp"
#include "worker_pool.hpp"

namespace localsgd::core {

// First exception of any thread; the others see failed() and stop.
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
  std::exception_ptr error() {
    std::lock_guard lock(mutex_);
    return error_;
  }
  // After a collective agreement: the error every process stops with.
  void replace(std::exception_ptr error) {
    std::lock_guard lock(mutex_);
    error_ = std::move(error);
    failed_.store(true, std::memory_order_release);
  }

 private:
  std::mutex mutex_;
  std::exception_ptr error_;
  std::atomic<bool> failed_{false};
};

// Wall time of the parts of a run.
struct RunTimes {
  double sync_seconds = 0;  // averaging, combination and schedule questions
  double eval_seconds = 0;  // the monitor's evaluations
};

template <class Worker>
class SyncRunner {
 public:
  SyncRunner(WorkerPool<Worker>& pool, ScheduleDriver& schedule, const StepEnvironment& env,
             const EngineConfig& config, Monitor* monitor,
             const std::function<double(const std::vector<double>&)>& objective_at)
      : pool_(pool),
        schedule_(schedule),
        env_(env),
        config_(config),
        monitor_(monitor),
        objective_at_(objective_at),
        d_(pool.dimension()),
        workers_(static_cast<std::int64_t>(pool.workers().size())) {}

  // Runs to T (or to the monitor's stop); returns the steps taken. `choose_threads(steps)`
  // says how many threads serve the run, given the length of its first phase.
  template <class ChooseThreads>
  std::int64_t execute(ChooseThreads&& choose_threads) {
    const EngineState* resume = config_.checkpoints.resume;
    const std::int64_t start = resume != nullptr ? resume->step : 0;
    if (resume != nullptr) {
      schedule_.restore(resume->schedule_record, resume->combine_state, pool_.size(),
                        config_.steps);
      if (resume->schedule_record.empty()) throw std::invalid_argument("no schedule calls saved");
      const ScheduleCall& last = resume->schedule_record.back();
      next_sync_ = {last.answer_step, last.answer_group};
      next_evaluation_ = monitor_ != nullptr ? resume->next_evaluation : config_.steps + 1;
      rounds_ = resume->rounds;
      last_sync_was_global_ = resume->last_sync_was_global;
      global_stale_ = resume->global_stale;
    } else {
      next_sync_ = ask_schedule(0);
      next_evaluation_ = monitor_ != nullptr ? monitor_->next_evaluation(0) : config_.steps + 1;
    }
    if (next_evaluation_ <= start) throw RuntimeFailure("evaluation schedule does not advance");
    checkpoint_clock_.emplace(config_.checkpoints, start);
    // A resumed run serves its workers with as many threads as the run it continues.
    first_phase_ = resume != nullptr ? resume->first_phase
                                     : std::min({next_sync_.step, next_evaluation_, config_.steps});
    threads_ = static_cast<int>(std::clamp<std::int64_t>(choose_threads(first_phase_), 1,
                                                         std::max<std::int64_t>(1, workers_)));
    claimed_ = std::vector<Claim>(static_cast<std::size_t>(workers_));
    if constexpr (std::is_same_v<Worker, MarginWorker>) {
      sparse_ = d_ >= kSparseMinDimension && !schedule_.needs().group_syncs &&
                !schedule_.needs().custom_combine;
      if (sparse_) {
        for (Worker& w : pool_.workers()) w.enable_tracking();
        union_mark_.assign(d_, 0);
      }
    }
    if (resume != nullptr) pool_.restore(*resume);  // after enable_tracking
    open_phase(start);
    std::vector<std::thread> helpers;
    helpers.reserve(static_cast<std::size_t>(threads_ - 1));
    try {
      for (int p = 1; p < threads_; ++p) helpers.emplace_back([this, p] { serve(p); });
    } catch (...) {
      // Fewer threads than planned is fine: any thread can run any worker's phase.
    }
    started_threads_ = static_cast<int>(helpers.size()) + 1;
    serve(0);
    for (auto& h : helpers) h.join();
    errors_.rethrow();
    return steps_done_;
  }

  std::int64_t rounds() const { return rounds_; }
  int interrupted() const { return interrupted_; }
  int threads() const { return started_threads_; }
  const RunTimes& times() const { return times_; }

 private:
  using Clock = std::chrono::steady_clock;

  // A worker's claim on its own cache line: the last round whose phase was taken.
  struct alignas(64) Claim {
    std::atomic<std::int64_t> round{-1};
  };

  // The loop of thread p: the phases of its own workers, then any left of the others'
  // (each owner's from the end, where the owner gets to last), then wait for the next
  // round.
  void serve(int p) {
    for (std::int64_t round = 0;; ++round) {
      for (std::int64_t k = first_of(p); k < first_of(p + 1); ++k) try_phase(k, round);
      for (int q = 1; q < threads_; ++q) {
        const int owner = (p + q) % threads_;
        for (std::int64_t k = first_of(owner + 1) - 1; k >= first_of(owner); --k)
          try_phase(k, round);
      }
      gate_.wait_for(
          round + 1, averaging_, [&] { return finished_.load(std::memory_order_acquire); },
          [&] { return evaluating_.load(std::memory_order_relaxed); });
      if (finished_.load(std::memory_order_acquire)) return;
    }
  }

  std::int64_t first_of(int p) const { return workers_ * p / threads_; }

  // Runs worker k's phase of `round` unless another thread has taken it; whoever
  // completes the round's last phase ends the round.
  void try_phase(std::int64_t k, std::int64_t round) {
    std::atomic<std::int64_t>& claim = claimed_[static_cast<std::size_t>(k)].round;
    // Claims only ever grow: a thread that lags behind (descheduled between its look and
    // its claim) must not write an older round over a newer one, or a phase would run
    // twice. Hence a CAS from what was seen, never an exchange.
    std::int64_t seen = claim.load(std::memory_order_acquire);
    do {
      if (seen >= round) return;
    } while (!claim.compare_exchange_weak(seen, round, std::memory_order_acq_rel,
                                          std::memory_order_acquire));
    if (!errors_.failed()) {
      try {
        pool_.workers()[static_cast<std::size_t>(k)].run(env_, phase_begin_, phase_end_);
      } catch (...) {
        errors_.capture();
      }
    }
    if (completed_.fetch_add(1, std::memory_order_acq_rel) + 1 == (round + 1) * workers_)
      end_round(round);
  }

  // Run by the thread that completed the round: sync, evaluate, then open the next round
  // or end the run. gate_.open() publishes everything it wrote.
  void end_round(std::int64_t round) {
    // With several processes, all learn of any failure at every round end, before the
    // exchanges of the sync: none is left waiting in an all-reduce.
    // Signals and the checkpoint clock are voted on in the same exchange, so that all
    // stop or save at the same step.
    if (pool_.communicator().ranks() > 1) {
      try {
        votes_ = pool_.communicator().agree_and_vote(
            errors_.failed() ? as_run_error(errors_.error()) : nullptr, local_votes());
      } catch (...) {
        errors_.replace(std::current_exception());
      }
    }
    if (!errors_.failed()) {
      try {
        end_of_phase();
      } catch (...) {
        errors_.capture();
      }
    }
    if (errors_.failed()) finished_.store(true, std::memory_order_release);
    gate_.open(round + 1);  // also wakes the waiters of a finished run
  }

  std::int64_t groups_of(std::int64_t g) const { return (pool_.size() + g - 1) / g; }

  // Starts a sync with groups of `group_size` (0: all). Syncs alternate between two
  // buffers: workers may still point into the last one (they adopt it when their next
  // phase starts), so only the other one is resized.
  void prepare_average(std::int64_t group_size) {
    group_ = group_size <= 0 ? pool_.size() : std::min(pool_.size(), group_size);
    current_ ^= 1;
    buffers_[current_].resize(static_cast<std::size_t>(groups_of(group_)) * d_);
  }
  std::vector<double>& means() { return buffers_[current_]; }

  // Sums coordinates [begin, end) of every group over its local workers, in worker order;
  // with one process, also divides (the same operations, just sooner).
  void sum_range(std::size_t begin, std::size_t end) {
    const WorkerRange local = pool_.local();
    const bool divide = pool_.communicator().ranks() == 1;
    for (std::int64_t group = 0; group < groups_of(group_); ++group) {
      double* mean = means().data() + static_cast<std::size_t>(group) * d_;
      std::fill(mean + begin, mean + end, 0.0);
      const std::int64_t lo = std::max(local.begin, group * group_);
      const std::int64_t hi = std::min(local.end, (group + 1) * group_);
      const std::span<double> out(mean, d_);
      for (std::int64_t k = lo; k < hi; ++k) pool_.worker(k).add_model_to(out, begin, end);
      if (divide) divide_range(group, begin, end);
    }
  }

  void divide_range(std::int64_t group, std::size_t begin, std::size_t end) {
    const double members =
        static_cast<double>(std::min(pool_.size(), (group + 1) * group_) - group * group_);
    double* mean = means().data() + static_cast<std::size_t>(group) * d_;
    bool finite = true;
    for (std::size_t j = begin; j < end; ++j) {
      mean[j] /= members;
      finite = finite && std::isfinite(mean[j]);
    }
    if (!finite) diverged_.store(true, std::memory_order_relaxed);
  }

  // body(i) for i < count, shared with the waiting threads when there are any.
  template <class Body>
  void run_shared(std::size_t count, Body& body) {
    if (threads_ > 1) {
      averaging_.run(count, body);
    } else {
      for (std::size_t i = 0; i < count; ++i) body(i);
    }
  }

  // The sums of a sync: split into blocks that waiting threads help with when the model
  // is large, else on this thread.
  void sum_all() {
    if (threads_ > 1 && d_ * static_cast<std::size_t>(workers_) >= kSplitAverageEntries) {
      const std::size_t blocks = (d_ + kAverageBlock - 1) / kAverageBlock;
      auto block = [&](std::size_t i) {
        sum_range(i * kAverageBlock, std::min(d_, (i + 1) * kAverageBlock));
      };
      averaging_.run(blocks, block);
    } else {
      sum_range(0, d_);
    }
  }

  // After the sums: exchange with other processes, divide, combine, hand the means out.
  void finish_average() {
    if (pool_.communicator().ranks() > 1) {
      pool_.communicator().sum_groups(means(), pool_.size(), group_);
      for (std::int64_t group = 0; group < groups_of(group_); ++group) divide_range(group, 0, d_);
    }
    const bool all = groups_of(group_) == 1;
    if (diverged_.load(std::memory_order_relaxed)) {
      if (all) pool_.communicator().failing_together();  // a group's average is its own
      throw_diverged("the average");
    }
    if (all) {
      const std::span<double> mean(means().data(), d_);
      schedule_.combine(pool_.global(), mean);
      pool_.global().assign(mean.begin(), mean.end());
    }
    last_sync_was_global_ = all;
    global_stale_ = false;
    const WorkerRange local = pool_.local();
    for (std::int64_t k = local.begin; k < local.end; ++k)
      pool_.worker(k).reset_later(means().data() + static_cast<std::size_t>(k / group_) * d_);
    ++rounds_;
  }

  // Sparse syncs, for margin workers on large models: when all workers agreed on every
  // coordinate at the last sync (no group syncs) and the schedule keeps the plain mean,
  // the new mean differs from each worker only where some worker touched it since, so
  // only those coordinates are summed and adopted (workers.hpp: adopt_coordinate): the cost
  // is that of the coordinates touched, not of d. The run falls back to the dense
  // average when more than 1/kSparseShare of the coordinates were touched, and always
  // ends with a dense one (x̄_T). Which path a sync takes depends on the samples only,
  // so results stay the same for any thread count.
  bool try_sparse_average(bool last) {
    if constexpr (!std::is_same_v<Worker, MarginWorker>) {
      (void)last;
      return false;
    } else {
      if (!sparse_ || last || groups_of(group_) != 1) return false;
      touched_.clear();
      for (Worker& w : pool_.workers())
        for (std::int32_t j : w.touched())
          if (!union_mark_[static_cast<std::size_t>(j)]) {
            union_mark_[static_cast<std::size_t>(j)] = 1;
            touched_.push_back(j);
          }
      for (std::int32_t j : touched_) union_mark_[static_cast<std::size_t>(j)] = 0;
      Communicator& communicator = pool_.communicator();
      if (communicator.ranks() > 1) {  // all processes' union: the same path on every one
        std::sort(touched_.begin(), touched_.end());
        touched_ = communicator.union_of(touched_);
      }
      if (touched_.size() * kSparseShare > d_) return false;
      if (communicator.ranks() > 1) return exchange_sparse_average();
      // Per touched coordinate: the mean of the v over the workers, in worker order, then
      // every worker adopts it, while the coordinate's lines are in cache (a second pass
      // would miss on every worker's v again). Blocks of coordinates are shared with the
      // waiting threads: at large d each coordinate is a cache miss per worker.
      const double K = static_cast<double>(pool_.size());
      double bias = 0;
      for (const Worker& w : pool_.workers()) bias += w.bias();
      bias /= K;
      std::atomic<bool> finite{std::isfinite(bias)};
      const std::size_t blocks = (touched_.size() + kSparseBlock - 1) / kSparseBlock;
      auto sync_block = [&](std::size_t block) {
        const std::span<const std::int32_t> part = std::span<const std::int32_t>(touched_).subspan(
            block * kSparseBlock, std::min(kSparseBlock, touched_.size() - block * kSparseBlock));
        bool ok = true;
        for (std::int32_t j : part) {
          const auto jj = static_cast<std::size_t>(j);
          double sum = 0.0;
          for (const Worker& w : pool_.workers()) sum += w.weights()[jj];
          const double mean = sum / K;
          ok = ok && std::isfinite(mean);
          for (Worker& w : pool_.workers()) w.adopt_coordinate(jj, mean);
        }
        if (!ok) finite.store(false, std::memory_order_relaxed);
      };
      run_shared(blocks, sync_block);
      if (!finite.load()) throw_diverged("the average");
      for (Worker& w : pool_.workers()) w.end_sparse_adoption(bias);
      global_stale_ = true;
      last_sync_was_global_ = true;
      ++rounds_;
      return true;
    }
  }

  // The sparse sync over several processes: each sums its own workers' values of the
  // touched coordinates (and intercepts), one all-reduce of those sums, then each worker
  // adopts the means. Instead of d values a sync exchanges the union's indices and one
  // value each.
  bool exchange_sparse_average() {
    const double K = static_cast<double>(pool_.size());
    std::vector<double> sums(touched_.size() + 1, 0.0);
    auto sum_block = [&](std::size_t block) {
      const std::size_t first = block * kSparseBlock;
      const std::size_t end = std::min(touched_.size(), first + kSparseBlock);
      for (std::size_t i = first; i < end; ++i) {
        const auto j = static_cast<std::size_t>(touched_[i]);
        double sum = 0.0;
        for (const Worker& w : pool_.workers()) sum += w.weights()[j];
        sums[i] = sum;
      }
    };
    const std::size_t blocks = (touched_.size() + kSparseBlock - 1) / kSparseBlock;
    run_shared(blocks, sum_block);
    for (const Worker& w : pool_.workers()) sums.back() += w.bias();
    pool_.communicator().sum_groups(sums, pool_.size(), pool_.size());
    bool finite = true;
    for (double& sum : sums) {
      sum /= K;
      finite = finite && std::isfinite(sum);
    }
    if (!finite) {
      pool_.communicator().failing_together();  // the sums of all workers
      throw_diverged("the average");
    }
    auto adopt_block = [&](std::size_t block) {
      const std::size_t first = block * kSparseBlock;
      const std::size_t end = std::min(touched_.size(), first + kSparseBlock);
      for (std::size_t i = first; i < end; ++i)
        for (Worker& w : pool_.workers())
          w.adopt_coordinate(static_cast<std::size_t>(touched_[i]), sums[i]);
    };
    run_shared(blocks, adopt_block);
    for (Worker& w : pool_.workers()) w.end_sparse_adoption(sums.back());
    global_stale_ = true;
    last_sync_was_global_ = true;
    ++rounds_;
    return true;
  }

  // Ends a phase: sync if due, evaluate if due, then set up the next phase or end the
  // run (at T, or when the monitor asks to stop).
  void end_of_phase() {
    const std::int64_t t = phase_end_;
    if (config_.steps_done != nullptr) config_.steps_done->store(t, std::memory_order_relaxed);
    bool last = t >= config_.steps;
    const auto sync_start = Clock::now();
    if (sync_due_ && !try_sparse_average(last)) {
      sum_all();
      finish_average();
    }
    const auto evaluation_start = Clock::now();
    if (sync_due_) times_.sync_seconds += seconds(sync_start, evaluation_start);
    if (t == next_evaluation_) {
      // Waiting threads sleep instead of spinning: the evaluation's parallel loops (TBB)
      // want their cores.
      evaluating_.store(true, std::memory_order_relaxed);
      struct Clear {
        std::atomic<bool>& flag;
        ~Clear() { flag.store(false, std::memory_order_relaxed); }
      } clear{evaluating_};
      const std::vector<double> x_bar = pool_.models_mean();
      const std::vector<double> x_hat = pool_.weighted_average(env_.shift, t);
      const bool stop = monitor_->evaluate({t, rounds_, x_hat, x_bar});
      next_evaluation_ = monitor_->next_evaluation(t);
      if (next_evaluation_ <= t) throw RuntimeFailure("evaluation schedule does not advance");
      if (stop && !last) {
        end_early();
        last = true;
      }
      times_.eval_seconds += seconds(evaluation_start, Clock::now());
    }
    if (last) {
      steps_done_ = t;
      finished_.store(true, std::memory_order_release);
      return;
    }
    if (sync_due_) {
      const auto ask_start = Clock::now();
      next_sync_ = ask_schedule(t);
      times_.sync_seconds += seconds(ask_start, Clock::now());
    }
    const RoundVotes votes = pool_.communicator().ranks() > 1 ? votes_ : local_votes();
    if (votes.checkpoint) {
      save_checkpoint(t);
      checkpoint_clock_->saved(t);
    }
    if (votes.interrupt != 0) {
      interrupted_ = votes.interrupt;
      end_early();
      steps_done_ = t;
      finished_.store(true, std::memory_order_release);
      return;
    }
    open_phase(t);
  }

  // Ends the run before T: it always ends with an average of all workers, so add one
  // unless this phase ended with one (a group sync is not).
  void end_early() {
    if (!sync_due_ || !last_sync_was_global_) {
      prepare_average(0);
      sum_range(0, d_);
      finish_average();
    } else if (global_stale_) {  // it was a sparse one: the agreed model, in full
      pool_.global() = pool_.models_mean();
      global_stale_ = false;
    }
  }

  // This process's view at the end of the phase: a signal received, a checkpoint due.
  RoundVotes local_votes() const {
    return {checkpoint_clock_->interrupt(), checkpoint_clock_->due(phase_end_)};
  }

  // With several processes every one takes part (its workers' state goes to process 0),
  // process 0 writes, and all learn whether that worked.
  void save_checkpoint(std::int64_t t) {
    Communicator& communicator = pool_.communicator();
    const EngineState state = save_state(t);
    if (communicator.ranks() == 1) return config_.checkpoints.save(state);
    std::exception_ptr error;
    try {
      if (communicator.rank() == 0) config_.checkpoints.save(state);
    } catch (...) {
      error = std::current_exception();
    }
    communicator.agree(error);
  }

  // The state at the boundary after step t, once its sync and schedule question are done.
  EngineState save_state(std::int64_t t) const {
    EngineState state;
    state.tracked = sparse_;
    state.step = t;
    state.rounds = rounds_;
    state.next_evaluation = next_evaluation_;
    state.first_phase = first_phase_;
    pool_.save(state);
    state.schedule_record = schedule_.recorded();
    state.combine_state = schedule_.combine_state();
    state.last_sync_was_global = last_sync_was_global_;
    state.global_stale = global_stale_;
    return state;
  }

  // A phase ends at the next sync, the next evaluation or T, whichever comes first, and
  // where the checkpoint clock polls. That does not change the run (workers continue where
  // they stopped).
  void open_phase(std::int64_t begin) {
    phase_begin_ = begin;
    phase_end_ = std::min(
        {next_sync_.step, next_evaluation_, config_.steps, checkpoint_clock_->next_poll(begin)});
    const bool last = phase_end_ >= config_.steps;
    sync_due_ = phase_end_ == next_sync_.step || last;  // the run always ends with x̄_T
    if (sync_due_) prepare_average(last ? 0 : next_sync_.group_size);
  }

  SyncEvent ask_schedule(std::int64_t t) {
    return schedule_.next(
        t, rounds_, env_.step_size.at(t > 0 ? t - 1 : 0), pool_.size(), config_.steps, [&] {
          // F at the average: the agreed model after a sync of all
          // workers (and at the start), else the mean of their models.
          return objective_at_(last_sync_was_global_ && !global_stale_ ? pool_.global()
                                                                       : pool_.models_mean());
        });
  }

  static double seconds(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  }

  // Averages of at least this many K·d entries are shared between threads, in blocks of
  // kAverageBlock coordinates.
  static constexpr std::size_t kSplitAverageEntries = 1 << 16;
  // Sparse syncs from this dimension on, while at most 1/kSparseShare of it was touched.
  static constexpr std::size_t kSparseMinDimension = 4096;
  static constexpr std::size_t kSparseShare = 8;
  static constexpr std::size_t kSparseBlock = 2048;  // touched coordinates per shared block
  static constexpr std::size_t kAverageBlock = 8192;

  WorkerPool<Worker>& pool_;
  ScheduleDriver& schedule_;
  const StepEnvironment& env_;
  const EngineConfig& config_;
  Monitor* const monitor_;
  const std::function<double(const std::vector<double>&)>& objective_at_;
  const std::size_t d_;
  const std::int64_t workers_;  // on this process
  int threads_ = 1;             // planned: the workers are split among this many
  int started_threads_ = 1;     // started (fewer if the system refused a thread)

  // The current phase and sync: written by the thread that ends a round, published to the
  // others by the gate (and read by them only while the round is open).
  std::int64_t phase_begin_ = 0, phase_end_ = 0, rounds_ = 0, steps_done_ = 0;
  std::int64_t next_evaluation_ = 0, group_ = 0, first_phase_ = 0;
  std::optional<CheckpointClock> checkpoint_clock_;  // set when the run starts
  int interrupted_ = 0;
  RoundVotes votes_;  // agreed at the end of the current round (several processes)
  SyncEvent next_sync_{0, 0};
  bool sync_due_ = false;
  bool last_sync_was_global_ = true;      // at the start, every worker holds x_0
  bool sparse_ = false;                   // sparse syncs are on (try_sparse_average)
  bool global_stale_ = false;             // the pool's global model predates sparse syncs
  std::vector<std::int32_t> touched_;     // the union of the workers' touched coordinates
  std::vector<std::uint8_t> union_mark_;  // membership in touched_
  std::vector<double> buffers_[2];        // one mean per group of a sync, alternating
  int current_ = 0;
  RunTimes times_;

  std::vector<Claim> claimed_;
  alignas(64) std::atomic<std::int64_t> completed_{0};  // phases completed, all rounds
  std::atomic<bool> finished_{false};
  std::atomic<bool> diverged_{false};
  std::atomic<bool> evaluating_{false};  // the round's owner evaluates: waiters sleep
  RoundGate gate_;
  BlockJob averaging_;
  FirstError errors_;
};

}  // namespace localsgd::core
