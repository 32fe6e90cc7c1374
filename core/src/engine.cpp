#include "localsgd/core/engine.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <new>
#include <optional>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include "async_run.hpp"
#include "localsgd/core/errors.hpp"
#include "shared_jobs.hpp"
#include "workers.hpp"

namespace localsgd::core {
namespace {

// Coordinates per block when a sync's averaging is shared between threads.
constexpr std::size_t kAverageBlock = 8192;

template <class Worker>
class Run {
 public:
  Run(const Objective& objective, const DataView& data, Schedule& schedule,
      const StepSize& step_size, const EngineConfig& config, tbb::task_arena& arena,
      Monitor* monitor)
      : monitor_(monitor),
        objective_(objective),
        data_(data),
        schedule_(schedule),
        config_(config),
        arena_(arena),
        env_{data, step_size, config.batch, config.avg_shift},
        dimension_(static_cast<std::size_t>(objective.dimension())),
        K_(config.workers),
        global_(dimension_) {
    if (config.initial_model.empty())
      objective.initial_point(config.seed, global_);
    else
      global_ = config.initial_model;
    workers_.reserve(static_cast<std::size_t>(K_));
    for (std::int64_t k = 0; k < K_; ++k)
      workers_.emplace_back(
          worker_objective(), global_,
          RowSampler(config.seed, static_cast<std::uint64_t>(k),
                     config.partition.empty() ? std::span<const std::int64_t>()
                                              : config.partition[static_cast<std::size_t>(k)],
                     data.rows(), config.sampling, config.batch),
          config.batch);
  }

  EngineResult execute() {
    const auto start = std::chrono::steady_clock::now();
    schedule_.start({config_.steps, K_, config_.batch});
    // The asynchronous run asks the schedule per worker, on the worker's own clock.
    if (config_.async.enabled) {
      std::int64_t max_staleness = 0;
      double mean_staleness = 0;
      AsyncRun<Worker> async(workers_, schedule_, env_, config_, global_);
      rounds_ = async.execute(max_staleness, mean_staleness);
      steps_done_ = config_.steps;
      EngineResult result = finish(start);
      result.max_staleness = max_staleness;
      result.mean_staleness = mean_staleness;
      return result;
    }
    next_sync_ = ask_schedule(0);
    next_evaluation_ = monitor_ != nullptr ? monitor_->next_evaluation(0) : config_.steps + 1;
    phase_end_ = phase_end();

    // More threads than workers only help when a sync has several blocks to share.
    const bool shared_averaging = dimension_ > kAverageBlock;
    const int threads = shared_averaging
                            ? arena_.max_concurrency()
                            : std::min<int>(arena_.max_concurrency(), static_cast<int>(K_));
    // One long-lived task per thread; see shared_jobs.hpp for why this cannot deadlock.
    if (threads <= 1) {
      participate();
    } else {
      arena_.execute([&] {
        tbb::parallel_for(
            0, threads, [&](int) { participate(); }, tbb::static_partitioner());
      });
    }
    errors_.rethrow();
    return finish(start);
  }

  EngineResult finish(std::chrono::steady_clock::time_point start) const {
    EngineResult result;
    result.x_last = global_;
    result.x_hat = weighted_average(steps_done_);
    result.steps = steps_done_;
    result.rounds = rounds_;
    result.grad_evals = steps_done_ * K_ * config_.batch;
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  }

 private:
  // F at the mean of all workers, computed only if the schedule asks.
  class AverageValue final : public LazyValue {
   public:
    explicit AverageValue(const Run& run) : run_(run) {}
    double get() const override {
      if (!value_) value_ = evaluate_objective(run_.objective_, run_.data_, run_.workers_mean());
      return *value_;
    }

   private:
    const Run& run_;
    mutable std::optional<double> value_;
  };

  const auto& worker_objective() const {
    if constexpr (std::is_same_v<Worker, MarginWorker>)
      return *objective_.as_margin();
    else
      return objective_;
  }

  SyncEvent ask_schedule(std::int64_t t) {
    AverageValue value(*this);
    const SyncContext ctx{t,  rounds_,       env_.step_size.at(t > 0 ? t - 1 : 0),
                          K_, config_.steps, &value};
    const SyncEvent next = schedule_.next(ctx);
    if (next.step <= t)
      throw PluginError("schedule asked to sync at step " + std::to_string(next.step) +
                        ", which is not after the current step " + std::to_string(t));
    if (next.group_size < 0) throw PluginError("schedule returned a negative group size");
    return next;
  }

  // The loop every thread runs: claim (round, worker) items in order, run the worker's
  // local phase when its round is open, and sync when completing a round's last item.
  void participate() {
    try {
      while (true) {
        const std::int64_t item = next_item_.fetch_add(1, std::memory_order_relaxed);
        const std::int64_t round = item / K_;
        if (!wait_until_open(round)) return;
        workers_[static_cast<std::size_t>(item % K_)].run(env_, phase_begin_, phase_end_);
        if (completed_.fetch_add(1, std::memory_order_acq_rel) + 1 == (round + 1) * K_)
          finish_round(round);
      }
    } catch (...) {
      errors_.capture();
    }
  }

  // False when the run ended (or failed) before `round`.
  bool wait_until_open(std::int64_t round) {
    Backoff backoff;
    while (open_round_.load(std::memory_order_acquire) < round) {
      if (finished_.load(std::memory_order_acquire) || errors_.failed()) return false;
      averaging_.help();
      backoff.pause();
    }
    return !finished_.load(std::memory_order_acquire) && !errors_.failed();
  }

  // A phase ends at the next sync, the next evaluation or T, whichever comes first.
  std::int64_t phase_end() const {
    return std::min({next_sync_.step, next_evaluation_, config_.steps});
  }

  // Run by the thread that completes a phase: sync if due, evaluate if due, then open
  // the next phase or end the run (at T, or when the monitor asks to stop).
  void finish_round(std::int64_t round) {
    const std::int64_t t = phase_end_;
    bool last = t >= config_.steps;
    const bool sync_due = t == next_sync_.step;
    if (sync_due || last) {
      average(last ? 0 : next_sync_.group_size);  // the run always ends with x̄_T
      ++rounds_;
    }
    if (t == next_evaluation_) {
      const bool stop = report_to_monitor(t);
      next_evaluation_ = monitor_->next_evaluation(t);
      if (next_evaluation_ <= t) throw RuntimeFailure("evaluation schedule does not advance");
      if (stop && !last) {
        if (!sync_due) {
          average(0);
          ++rounds_;
        }
        last = true;
      }
    }
    if (last) {
      steps_done_ = t;
      finished_.store(true, std::memory_order_release);
      return;
    }
    if (sync_due) next_sync_ = ask_schedule(t);
    phase_begin_ = t;
    phase_end_ = phase_end();
    open_round_.store(round + 1, std::memory_order_release);  // publishes the phase
  }

  // x̄: the plain mean of all workers' current models, summed in worker order.
  std::vector<double> workers_mean() const {
    std::vector<double> x(dimension_, 0.0);
    for (const Worker& w : workers_) w.add_model_to(x, 0, dimension_);
    for (double& v : x) v /= static_cast<double>(workers_.size());
    return x;
  }

  bool report_to_monitor(std::int64_t t) {
    const std::vector<double> x_bar = workers_mean();
    const std::vector<double> x_hat = weighted_average(t);
    return monitor_->evaluate({t, rounds_, x_hat, x_bar});
  }

  // Replaces each group of workers by its mean (all workers when group_size is 0). The
  // coordinate blocks are shared with waiting threads; each coordinate is summed over
  // workers in index order, so the result does not depend on who computes which block.
  // Workers adopt their group's mean at the start of their next phase (reset_later).
  void average(std::int64_t group_size) {
    const std::size_t K = workers_.size();
    const std::size_t g = group_size <= 0 ? K : std::min(K, static_cast<std::size_t>(group_size));
    const std::size_t groups = (K + g - 1) / g;
    means_.resize(groups * dimension_);  // every worker has adopted the previous means
    const std::size_t blocks = (dimension_ + kAverageBlock - 1) / kAverageBlock;
    std::atomic<bool> finite{true};

    auto block_means = [&](std::size_t block) {
      const std::size_t begin = block * kAverageBlock;
      const std::size_t end = std::min(dimension_, begin + kAverageBlock);
      for (std::size_t group = 0; group < groups; ++group) {
        const std::size_t first = group * g, last = std::min(K, first + g);
        std::span<double> mean(means_.data() + group * dimension_, dimension_);
        std::fill(mean.begin() + static_cast<std::ptrdiff_t>(begin),
                  mean.begin() + static_cast<std::ptrdiff_t>(end), 0.0);
        for (std::size_t k = first; k < last; ++k) workers_[k].add_model_to(mean, begin, end);
        const double members = static_cast<double>(last - first);
        for (std::size_t j = begin; j < end; ++j) {
          mean[j] /= members;
          if (!std::isfinite(mean[j])) finite.store(false, std::memory_order_relaxed);
        }
      }
    };
    averaging_.run(blocks, block_means);
    if (!finite.load()) throw_diverged("the average");

    if (groups == 1) {
      std::span<double> mean(means_.data(), dimension_);
      if (schedule_.combine(global_, mean)) {
        for (double v : mean)
          if (!std::isfinite(v)) throw_diverged("the schedule's combination");
      }
      global_.assign(mean.begin(), mean.end());
    }
    for (std::size_t k = 0; k < K; ++k)
      workers_[k].reset_later(means_.data() + (k / g) * dimension_);
  }

  [[noreturn]] static void throw_diverged(const char* what) {
    throw RuntimeFailure(std::string("diverged: ") + what +
                         " has non-finite entries; lower the step size (--lr, --lr-param)");
  }

  // x̂ over the iterates of steps [0, steps).
  std::vector<double> weighted_average(std::int64_t steps) const {
    double total_weight = 0.0;
    for (std::int64_t t = 0; t < steps; ++t) total_weight += iterate_weight(config_.avg_shift, t);
    std::vector<double> x(dimension_, 0.0);
    for (const Worker& w : workers_) w.add_accumulator_to(x);
    const double scale = 1.0 / (static_cast<double>(workers_.size()) * total_weight);
    for (double& v : x) {
      v *= scale;
      if (!std::isfinite(v)) throw_diverged("the weighted average x_hat");
    }
    return x;
  }

  Monitor* const monitor_;
  const Objective& objective_;
  const DataView& data_;
  Schedule& schedule_;
  const EngineConfig& config_;
  tbb::task_arena& arena_;
  const StepEnvironment env_;
  const std::size_t dimension_;
  const std::int64_t K_;
  std::vector<Worker> workers_;
  std::vector<double> global_;  // the last model all workers agreed on
  std::vector<double> means_;   // one mean per group of the current sync

  // The current phase, written by the syncing thread before it opens the round.
  std::int64_t phase_begin_ = 0, phase_end_ = 0, rounds_ = 0, steps_done_ = 0;
  SyncEvent next_sync_{0, 0};
  std::int64_t next_evaluation_ = 0;
  std::atomic<std::int64_t> next_item_{0}, completed_{0}, open_round_{0};
  std::atomic<bool> finished_{false};
  BlockJob averaging_;
  FirstError errors_;
};

void validate(const Objective& objective, const DataView& data, const EngineConfig& config,
              const Monitor* monitor) {
  if (config.workers < 1) throw UsageError("--workers must be at least 1");
  if (config.batch < 1) throw UsageError("--batch must be at least 1");
  if (config.steps < 1) throw UsageError("the run needs at least one step");
  if (data.rows() < 1) throw UsageError("the data set has no rows");
  if (objective.dimension() < 1) throw PluginError("the objective reports dimension 0");
  if (!config.partition.empty()) {
    if (static_cast<std::int64_t>(config.partition.size()) != config.workers)
      throw UsageError("the partition has " + std::to_string(config.partition.size()) +
                       " parts for " + std::to_string(config.workers) + " workers");
    for (const auto& part : config.partition)
      for (std::int64_t i : part)
        if (i < 0 || i >= data.rows()) throw UsageError("the partition names a row out of range");
  }
  if (config.async.enabled) {
    if (monitor != nullptr)
      throw UsageError("--async runs do not support --eval-every, --target or --plot yet");
    if (static_cast<std::int64_t>(config.async.speeds.size()) != config.workers)
      throw UsageError("--worker-speeds needs one speed per worker (" +
                       std::to_string(config.workers) + ")");
    for (double v : config.async.speeds)
      if (!(v > 0) || !std::isfinite(v)) throw UsageError("--worker-speeds must be positive");
    // A worker receives the mean as soon as it delivers, so a faster one always leads by
    // at least one round when it does.
    if (config.async.max_staleness < 1) throw UsageError("--max-staleness must be >= 1");
  }
  if (!config.initial_model.empty() &&
      static_cast<std::int64_t>(config.initial_model.size()) != objective.dimension())
    throw UsageError("the initial model has " + std::to_string(config.initial_model.size()) +
                     " coefficients, the objective " + std::to_string(objective.dimension()));
  if (!std::isfinite(config.avg_shift) || config.avg_shift < 0)
    throw UsageError("--avg-shift must be a finite number >= 0");
}

}  // namespace

EngineResult run_local_sgd(const Objective& objective, const DataView& data, Schedule& schedule,
                           const StepSize& step_size, const EngineConfig& config,
                           Monitor* monitor) {
  validate(objective, data, config, monitor);
  tbb::task_arena arena(config.threads > 0 ? config.threads : tbb::task_arena::automatic);
  try {
    if (objective.as_margin() != nullptr)
      return Run<MarginWorker>(objective, data, schedule, step_size, config, arena, monitor)
          .execute();
    return Run<DenseWorker>(objective, data, schedule, step_size, config, arena, monitor).execute();
  } catch (const RuntimeFailure&) {
    throw;
  } catch (const UsageError&) {
    throw;
  } catch (const PluginError&) {
    throw;
  } catch (const DataError&) {
    throw;
  } catch (const ParamError&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    // Only plugin code (objective, schedule) throws anything else during a run.
    throw PluginError(std::string("a plugin failed during training: ") + e.what());
  }
}

double evaluate_objective(const Objective& objective, const DataView& data,
                          const std::vector<double>& x) {
  const MarginObjective* margin = objective.as_margin();
  if (margin == nullptr) return objective.value(data, x);
  // Fixed grain + deterministic reduce: the summation tree depends on n only.
  const double loss_sum = tbb::parallel_deterministic_reduce(
      tbb::blocked_range<std::int64_t>(0, data.rows(), 2048), 0.0,
      [&](const tbb::blocked_range<std::int64_t>& r, double acc) {
        for (std::int64_t i = r.begin(); i != r.end(); ++i)
          acc += margin->margin_loss(margin->margin(data.row(i), x),
                                     data.label[static_cast<std::size_t>(i)]);
        return acc;
      },
      std::plus<double>(), tbb::simple_partitioner());
  const std::span<const double> weights(x.data(), margin->regularised_size(x));
  return loss_sum / static_cast<double>(data.rows()) +
         0.5 * margin->lambda() * MarginObjective::squared_norm(weights);
}

}  // namespace localsgd::core
