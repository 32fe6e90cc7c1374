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

#include "localsgd/core/errors.hpp"
#include "workers.hpp"

namespace localsgd::core {
namespace {

// Below this many coordinates x workers, averaging is cheaper than a parallel launch.
constexpr std::size_t kParallelAverageWork = std::size_t{1} << 16;
constexpr std::size_t kAverageBlock = 4096;

template <class Worker>
class Run {
 public:
  Run(const Objective& objective, const DataView& data, Schedule& schedule,
      const StepSize& step_size, const EngineConfig& config, tbb::task_arena& arena)
      : objective_(objective),
        data_(data),
        schedule_(schedule),
        config_(config),
        arena_(arena),
        env_{data, step_size, config.batch, config.avg_shift},
        dimension_(static_cast<std::size_t>(objective.dimension())),
        global_(dimension_),
        mean_(dimension_) {
    objective.initial_point(config.seed, global_);
    workers_.reserve(static_cast<std::size_t>(config.workers));
    for (std::int64_t k = 0; k < config.workers; ++k)
      workers_.emplace_back(worker_objective(), global_,
                            WorkerRng(config.seed, static_cast<std::uint64_t>(k)), config.batch);
  }

  EngineResult execute() {
    const auto start = std::chrono::steady_clock::now();
    const std::int64_t T = config_.steps;
    schedule_.start({T, config_.workers, config_.batch});
    EngineResult result;
    std::int64_t t = 0;
    SyncEvent next = ask_schedule(0, 0);
    while (true) {
      const std::int64_t end = std::min(next.step, T);
      run_local_phase(t, end);
      t = end;
      if (t >= T) break;
      average(next.group_size);
      ++result.rounds;
      next = ask_schedule(t, result.rounds);
    }
    average(0);  // x̄_T; the last round of every run
    ++result.rounds;

    result.x_last = global_;
    result.x_hat = weighted_average();
    result.steps = T;
    result.grad_evals = T * config_.workers * config_.batch;
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  }

 private:
  // F at the mean of all workers, computed only if the schedule asks.
  class AverageValue final : public LazyValue {
   public:
    explicit AverageValue(Run& run) : run_(run) {}
    double get() const override {
      if (!value_) {
        std::vector<double> x(run_.dimension_, 0.0);
        run_.sum_models(0, run_.workers_.size(), x);
        for (double& v : x) v /= static_cast<double>(run_.workers_.size());
        value_ = evaluate_objective(run_.objective_, run_.data_, x);
      }
      return *value_;
    }

   private:
    Run& run_;
    mutable std::optional<double> value_;
  };

  const auto& worker_objective() const {
    if constexpr (std::is_same_v<Worker, MarginWorker>)
      return *objective_.as_margin();
    else
      return objective_;
  }

  SyncEvent ask_schedule(std::int64_t t, std::int64_t rounds) {
    AverageValue value(*this);
    const SyncContext ctx{
        t, rounds, env_.step_size.at(t > 0 ? t - 1 : 0), config_.workers, config_.steps, &value};
    const SyncEvent next = schedule_.next(ctx);
    if (next.step <= t)
      throw PluginError("schedule asked to sync at step " + std::to_string(next.step) +
                        ", which is not after the current step " + std::to_string(t));
    if (next.group_size < 0) throw PluginError("schedule returned a negative group size");
    return next;
  }

  void run_local_phase(std::int64_t first, std::int64_t end) {
    if (first >= end) return;
    if (arena_.max_concurrency() == 1 || workers_.size() == 1) {
      for (Worker& w : workers_) w.run(env_, first, end);
      return;
    }
    arena_.execute([&] {
      tbb::parallel_for(
          tbb::blocked_range<std::size_t>(0, workers_.size()),
          [&](const tbb::blocked_range<std::size_t>& r) {
            for (std::size_t k = r.begin(); k != r.end(); ++k) workers_[k].run(env_, first, end);
          },
          tbb::static_partitioner());
    });
  }

  // out += sum of the models of workers [first, last), each coordinate summed in worker
  // order whatever the thread count.
  void sum_models(std::size_t first, std::size_t last, std::vector<double>& out) {
    auto body = [&](std::size_t begin, std::size_t end) {
      for (std::size_t k = first; k < last; ++k) workers_[k].add_model_to(out, begin, end);
    };
    if ((last - first) * dimension_ < kParallelAverageWork || arena_.max_concurrency() == 1) {
      body(0, dimension_);
      return;
    }
    arena_.execute([&] {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, dimension_, kAverageBlock),
                        [&](const auto& r) { body(r.begin(), r.end()); });
    });
  }

  // Replaces each group's workers by their mean; group_size 0 means one group of all.
  void average(std::int64_t group_size) {
    const std::size_t K = workers_.size();
    const std::size_t g = group_size <= 0 ? K : std::min(K, static_cast<std::size_t>(group_size));
    for (std::size_t first = 0; first < K; first += g) {
      const std::size_t last = std::min(K, first + g);
      std::fill(mean_.begin(), mean_.end(), 0.0);
      sum_models(first, last, mean_);
      const double members = static_cast<double>(last - first);
      for (double& v : mean_) v /= members;
      if (last - first == K) {
        if (schedule_.combine(global_, mean_)) check_finite(mean_, "the schedule's combination");
        global_ = mean_;
      }
      check_finite(mean_, "the average");
      for (std::size_t k = first; k < last; ++k) workers_[k].reset_to(mean_);
    }
  }

  void check_finite(const std::vector<double>& x, const char* what) const {
    for (double v : x)
      if (!std::isfinite(v))
        throw RuntimeFailure(std::string("diverged: ") + what +
                             " has non-finite entries; lower the step size (--lr, --lr-param)");
  }

  std::vector<double> weighted_average() const {
    double total_weight = 0.0;
    for (std::int64_t t = 0; t < config_.steps; ++t)
      total_weight += iterate_weight(config_.avg_shift, t);
    std::vector<double> x(dimension_, 0.0);
    for (const Worker& w : workers_) w.add_accumulator_to(x);
    const double scale = 1.0 / (static_cast<double>(workers_.size()) * total_weight);
    for (double& v : x) v *= scale;
    check_finite(x, "the weighted average x_hat");
    return x;
  }

  const Objective& objective_;
  const DataView& data_;
  Schedule& schedule_;
  const EngineConfig& config_;
  tbb::task_arena& arena_;
  const StepEnvironment env_;
  const std::size_t dimension_;
  std::vector<double> global_;  // the last model all workers agreed on
  std::vector<double> mean_;
  std::vector<Worker> workers_;
};

void validate(const Objective& objective, const DataView& data, const EngineConfig& config) {
  if (config.workers < 1) throw UsageError("--workers must be at least 1");
  if (config.batch < 1) throw UsageError("--batch must be at least 1");
  if (config.steps < 1) throw UsageError("the run needs at least one step");
  if (data.rows() < 1) throw UsageError("the data set has no rows");
  if (objective.dimension() < 1) throw PluginError("the objective reports dimension 0");
  if (!std::isfinite(config.avg_shift) || config.avg_shift < 0)
    throw UsageError("--avg-shift must be a finite number >= 0");
}

}  // namespace

EngineResult run_local_sgd(const Objective& objective, const DataView& data, Schedule& schedule,
                           const StepSize& step_size, const EngineConfig& config) {
  validate(objective, data, config);
  tbb::task_arena arena(config.threads > 0 ? config.threads : tbb::task_arena::automatic);
  try {
    if (objective.as_margin() != nullptr)
      return Run<MarginWorker>(objective, data, schedule, step_size, config, arena).execute();
    return Run<DenseWorker>(objective, data, schedule, step_size, config, arena).execute();
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
          acc += margin->margin_loss(data.row(i).dot(x.data()),
                                     data.label[static_cast<std::size_t>(i)]);
        return acc;
      },
      std::plus<double>(), tbb::simple_partitioner());
  double norm2 = 0.0;
  for (double v : x) norm2 += v * v;
  return loss_sum / static_cast<double>(data.rows()) + 0.5 * margin->lambda() * norm2;
}

}  // namespace localsgd::core
