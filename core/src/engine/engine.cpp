#include "localsgd/core/engine/engine.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <new>
#include <stdexcept>
#include <string>

#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_reduce.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include "async_runner.hpp"
#include "communicator.hpp"
#include "localsgd/core/errors.hpp"
#include "run_errors.hpp"
#include "schedule_driver.hpp"
#include "sync_runner.hpp"
#include "worker_pool.hpp"

namespace localsgd::core {
namespace {

// Threads that may serve a run: the --threads cap, the process-wide TBB cap, the cores.
int thread_budget(int requested) {
  int budget = static_cast<int>(
      tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
  budget = std::min(budget, tbb::info::default_concurrency());
  if (requested > 0) budget = std::min(budget, requested);
  return std::max(1, budget);
}

// How many threads pay off for one round of a synchronous run: a thread must have enough
// work between two round ends (each costs the threads a hand-over of the models, a few
// µs here) to beat them. The estimate is in nanoseconds of this machine's hot loop (about
// 20 ns per sample plus 4 ns per stored entry; dense steps touch d coordinates a few
// times more).
int useful_threads(const DataView& data, const Objective& objective, const EngineConfig& config,
                   std::int64_t phase_steps, int budget) {
  const double nnz_per_row =
      static_cast<double>(data.nnz()) / static_cast<double>(std::max<std::int64_t>(1, data.rows()));
  const double dense_step =
      objective.as_margin() != nullptr ? 0.0 : 3.0 * static_cast<double>(objective.dimension());
  const double per_step =
      static_cast<double>(config.batch) * (20.0 + 4.0 * nnz_per_row) + dense_step;
  // The dense average reads K models of d coordinates (about 1 ns per entry), and the
  // threads share it in blocks.
  const double round_ns =
      per_step * static_cast<double>(phase_steps) * static_cast<double>(config.workers) +
      static_cast<double>(objective.dimension()) * static_cast<double>(config.workers);
  // ns of work per round that make a second thread pay (bench/engine_threads.py: on w8a,
  // K = 4, b = 4, two threads lose at H = 1-2 and win from H = 8, ~8 µs of work).
  constexpr double kWorkPerThread = 4000;
  const auto by_work = static_cast<std::int64_t>(round_ns / kWorkPerThread);
  return static_cast<int>(std::clamp<std::int64_t>(by_work, 1, budget));
}

template <class Worker, class WorkerObjective>
EngineResult run(const Objective& objective, const WorkerObjective& worker_objective,
                 const DataView& data, Schedule& schedule, const StepSize& step_size,
                 const EngineConfig& config, Monitor* monitor) {
  const auto start = std::chrono::steady_clock::now();
  InProcessCommunicator in_process;
  Communicator& communicator = config.communicator ? *config.communicator : in_process;
  std::vector<double> x0(static_cast<std::size_t>(objective.dimension()));
  if (config.initial_model.empty())
    objective.initial_point(config.seed, x0);
  else
    x0 = config.initial_model;
  WorkerPool<Worker> pool(worker_objective, std::move(x0), data, config, communicator);
  const StepEnvironment env{data, step_size, config.batch, config.avg_shift};
  ScheduleDriver driver(schedule, config.schedule_name);
  // f for schedules that adapt to it (adacomm). With rows spread over the processes, the
  // sum of their row-weighted parts, with a failure count in the same all-reduce: every
  // process gets the same bits, so all decide alike, or all stop.
  const std::function<double(const std::vector<double>&)> objective_at =
      [&](const std::vector<double>& x) {
        if (config.row_share <= 0) return evaluate_objective(objective, data, x);
        std::exception_ptr error;
        double parts[2] = {0.0, 0.0};
        try {
          parts[0] = config.row_share * evaluate_objective(objective, data, x);
        } catch (...) {
          error = std::current_exception();
          parts[1] = 1;
        }
        communicator.sum_uncounted(parts);
        if (parts[1] > 0) communicator.agree(error);
        return parts[0];
      };
  const int budget = thread_budget(config.threads);
  const EngineConfig::Checkpoints& checkpoints = config.checkpoints;
  if (checkpoints.save || checkpoints.resume != nullptr) {
    driver.require_checkpointable();
    driver.record();
  }

  EngineResult result;
  std::vector<std::int64_t> worker_steps;
  RunTimes times;
  if (config.async.enabled) {
    if (communicator.ranks() > 1)  // TrainOptions::validate refuses it first
      throw std::invalid_argument("run_local_sgd: async runs take one process");
    driver.require({"--async", /*group_syncs=*/false, true, true});
    driver.start({config.steps, config.workers, config.batch});
    tbb::task_arena arena(budget);
    AsyncRunner<Worker> runner(pool, driver, env, config, monitor, objective_at);
    result.steps = runner.execute(arena);
    result.rounds = runner.rounds();
    result.max_staleness = runner.max_staleness();
    result.mean_staleness = runner.mean_staleness();
    result.interrupted = runner.interrupted();
    worker_steps = runner.worker_steps();
    times = runner.times();
    result.threads = std::min<int>(budget, static_cast<int>(config.workers));
  } else {
    driver.require({"synchronous"});
    driver.start({config.steps, config.workers, config.batch});
    SyncRunner<Worker> runner(pool, driver, env, config, monitor, objective_at);
    result.steps = runner.execute([&](std::int64_t first_phase) {
      if (config.exact_threads && config.threads > 0) return config.threads;
      return useful_threads(data, objective, config, first_phase, budget);
    });
    result.rounds = runner.rounds();
    result.interrupted = runner.interrupted();
    worker_steps.assign(static_cast<std::size_t>(config.workers), result.steps);
    times = runner.times();
    result.threads = runner.threads();
  }
  result.x_last = pool.global();
  result.x_hat = pool.weighted_average(config.avg_shift, worker_steps);
  for (std::int64_t s : worker_steps) result.grad_evals += s * config.batch;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.sync_seconds = times.sync_seconds;
  result.eval_seconds = times.eval_seconds;
  return result;
}

// The engine's preconditions. Users' options are checked before they get here, in
// TrainOptions::validate(); a failure here is a caller's bug, reported as such.
void check_preconditions(const Objective& objective, const DataView& data,
                         const EngineConfig& config) {
  auto require = [](bool ok, const char* what) {
    if (!ok) throw std::invalid_argument(std::string("run_local_sgd: ") + what);
  };
  require(config.workers >= 1 && config.batch >= 1 && config.steps >= 1,
          "workers, batch and steps must be >= 1");
  require(data.rows() >= 1, "the data set has no rows");
  require(std::isfinite(config.avg_shift) && config.avg_shift >= 0, "avg_shift must be >= 0");
  require(config.initial_model.empty() ||
              static_cast<std::int64_t>(config.initial_model.size()) == objective.dimension(),
          "the initial model's size is not the objective's dimension");
  require(config.partition.empty() ||
              static_cast<std::int64_t>(config.partition.size()) == config.workers,
          "the partition needs one part per worker");
  for (const auto& part : config.partition)
    for (std::int64_t i : part)
      require(i >= 0 && i < data.rows(), "a partition row is out of range");
  if (config.async.enabled) {
    require(static_cast<std::int64_t>(config.async.speeds.size()) == config.workers,
            "async runs need one speed per worker");
    for (double v : config.async.speeds) require(v > 0 && std::isfinite(v), "speeds must be > 0");
    require(config.async.max_staleness >= 1, "max_staleness must be >= 1");
  }
  if (objective.dimension() < 1) throw PluginError("the objective reports dimension 0");
  const EngineConfig::Checkpoints& checkpoints = config.checkpoints;
  require(checkpoints.every >= 0, "checkpoints.every must be >= 0");
  if (const EngineState* resume = checkpoints.resume; resume != nullptr) {
    require(resume->async == config.async.enabled, "the saved state is of another kind of run");
    require(resume->step >= 0 && resume->step < config.steps, "the saved step is out of range");
    require(static_cast<std::int64_t>(resume->global.size()) == objective.dimension(),
            "the saved model's size is not the objective's dimension");
  }
}

}  // namespace

EngineResult run_local_sgd(const Objective& objective, const DataView& data, Schedule& schedule,
                           const StepSize& step_size, const EngineConfig& config,
                           Monitor* monitor) {
  check_preconditions(objective, data, config);
  try {
    if (const MarginObjective* margin = objective.as_margin(); margin != nullptr)
      return run<MarginWorker>(objective, *margin, data, schedule, step_size, config, monitor);
    return run<DenseWorker>(objective, objective, data, schedule, step_size, config, monitor);
  } catch (...) {
    rethrow_as_run_error(std::current_exception());
  }
}

}  // namespace localsgd::core
