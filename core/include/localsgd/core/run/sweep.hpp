// `localsgd sweep`: the paper's speedup experiment as one command. For every grid point
// (K, H, b) and step-size value, run Local SGD from several seeds until f(x̂) - f* <= EPS
// (or a budget runs out), then report per point the median steps to EPS, rounds, the
// speedup in steps over K = 1 (same H and b), and the speedup in modelled wall time under
// the paper's communication model: time ∝ T_K·b + 2(K-1)·rho·R_K (README "The speedup experiment").
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "localsgd/core/run/train_options.hpp"
#include "localsgd/core/solve/theory.hpp"

namespace localsgd::core {

class Problem;

struct SweepPoint {
  std::int64_t workers, local_steps, batch;
  std::vector<double> lr_values;         // the winning setting, one value per lr_grid axis
  double steps = 0;                      // median steps to EPS (infinity if not reached)
  double rounds = 0;                     // median rounds to EPS
  std::int64_t reached = 0;              // runs (of the winner) that reached EPS
  std::optional<double> speedup;         // T_1 / T_K, same H and b
  std::optional<double> time_speedup;    // T_1 b / (T_K b + 2 (K-1) rho R_K)
  std::optional<double> theory_steps;    // Theorem 2.2's steps to EPS (see `theory`)
  std::optional<double> theory_speedup;  // their ratio to K = 1
};

struct SweepRequest {
  TrainOptions base;  // objective, data, reader, step-size rule, sampling, partition, seed
  std::vector<std::int64_t> workers{1, 2, 4};
  std::vector<std::int64_t> local_steps{1, 4, 16};
  std::vector<std::int64_t> batches{4};
  // Step-size tuning: --lr-param keys to vary, each with its values (one axis per
  // --lr-grid); every combination of the axes (their product) runs at every grid point,
  // and the best (fewest median steps to EPS) wins per point. Empty: the base request's
  // step size only.
  struct LrAxis {
    std::string key;
    std::vector<double> values;
  };
  std::vector<LrAxis> lr_grid;
  // The number of step-size settings each point runs: the product of the axes' sizes.
  // Saturates at SIZE_MAX rather than wrapping (validation caps it far below).
  std::size_t lr_settings() const {
    std::size_t n = 1;
    for (const LrAxis& axis : lr_grid)
      n = axis.values.empty() || n <= SIZE_MAX / axis.values.size() ? n * axis.values.size()
                                                                    : SIZE_MAX;
    return n;
  }
  // Setting l's value on each axis (mixed radix, the last axis fastest).
  std::vector<double> lr_setting(std::size_t l) const {
    std::vector<double> values(lr_grid.size());
    for (std::size_t a = lr_grid.size(); a-- > 0;) {
      values[a] = lr_grid[a].values[l % lr_grid[a].values.size()];
      l /= lr_grid[a].values.size();
    }
    return values;
  }
  std::int64_t repeats = 3;          // seeds base.seed, base.seed + 1, ...
  double rho = 25;                   // one vector transfer, in single-sample gradient times
  double max_epochs = 50;            // budget per run, in passes over the data
  std::int64_t evals_per_epoch = 8;  // how finely steps to EPS are resolved
  // Also report the theoretical steps and speedup of Theorem 2.2 (theory.hpp), with L and
  // mu from the objective, sigma^2 at x*, and G^2 the largest mean squared stochastic
  // gradient seen along one K = 1, H = 1 run from x_0 (evaluated once per pass).
  bool theory = false;
  // Which model must come within EPS of f*: x̂, the theorem's weighted average (the model
  // a run writes), or x̄, the workers' last average (costs a gradient pass per evaluation).
  enum class Measured { x_hat, x_bar };
  Measured measure = Measured::x_hat;
  // Continuing an earlier sweep: given this sweep's identity (sweep_identity), the points
  // the earlier one finished (read_sweep_stream), reported as they were instead of run;
  // it refuses (throws) when the identities differ.
  std::function<std::vector<SweepPoint>(const nlohmann::ordered_json& identity)> resume;
};

struct SweepResult {
  double fstar = 0;
  std::optional<TheoryConstants> theory;  // the estimates behind the theoretical columns
  std::vector<SweepPoint> points;         // the finished ones when interrupted
  // A SIGINT/SIGTERM that stopped the sweep (run under GracefulInterrupts), else 0: runs
  // in progress stop at their next step boundary, none starts after it, and only the
  // points all of whose runs had finished are reported.
  int interrupted = 0;
  std::size_t planned_points = 0;
  // Runs started (fewer than planned after a signal), and those stopped early because
  // their step-size setting had certainly lost its point (sweep_race.hpp; the table is the
  // same as without), counted over every point, reported or not.
  std::size_t runs = 0, abandoned_runs = 0;
  std::size_t resumed_points = 0;  // points taken from SweepRequest::resumed
};

// What a sweep tells as it goes (each optional; none can change the results).
struct SweepObserver {
  // f* is known and no run has started: the stream's header can be written.
  std::function<void(const nlohmann::ordered_json& identity)> started;
  // Runs finished so far (abandoned ones included) of `total` planned; called once per
  // finished run, from the thread that ran it (concurrently: it must be thread-safe).
  std::function<void(std::size_t finished, std::size_t total)> progress;
  // A point's final row, in grid order, as soon as it, every point before it and its
  // K = 1 base have finished; one call at a time. After a signal, the finished points not
  // yet told follow, still in grid order. An interrupted sweep has told every point it
  // reports.
  std::function<void(const SweepPoint& point)> point;
};

// Grid points run in parallel (one thread each); each run is deterministic.
SweepResult run_sweep(const SweepRequest& request, const SweepObserver& observer = {});

// What every point of a sweep depends on, as values (0.01 and 1e-2 alike, defaults
// filled in): the version, f*, the data's size and content hash, the objective (its file's
// hash, resolved parameters), the step-size rule and grid, sampling, partition, seed,
// repeats, budget, cadence, measure and target. Not the grid, rho, theory, threads or
// outputs: a resumed sweep may change those.
nlohmann::ordered_json sweep_identity(const SweepRequest& request, const Problem& problem,
                                      double fstar);

// The sweep_start event a stream begins with: its identity, for --resume, and the options
// as given (a record, not compared).
nlohmann::ordered_json sweep_start_event(const nlohmann::ordered_json& identity,
                                         const nlohmann::ordered_json& options);

// The `sweep` event that ends a stream: f*, the target, counts and Theorem 2.2's constants.
nlohmann::ordered_json sweep_summary_event(const SweepResult& result, const SweepRequest& request);

// The points of an earlier sweep's JSON stream (`sweep --format json`, or its --out
// file) that this sweep, of identity `identity`, may take as they are. A last line cut
// short (a killed sweep) is ignored. A file that is no such stream, or a point that cannot
// be this sweep's (its repeats, its step-size grid), is a DataError naming FILE:LINE; a
// stream of another identity is a UsageError naming the first difference.
std::vector<SweepPoint> resume_points(const std::filesystem::path& path,
                                      const SweepRequest& request,
                                      const nlohmann::ordered_json& identity);

// Every column of the CSV table of a sweep's points and its summary (EventPrinter).
std::vector<std::string> sweep_csv_columns(const SweepRequest& request);

nlohmann::ordered_json to_json(const SweepPoint& point, const SweepRequest& request);

// Speedup against K, one curve per H (and b), drawn by gnuplot into an .svg or .png: in
// steps (with Theorem 2.2's beside it when computed), or in the modelled time of the
// communication model with ratio `rho` (time_speedup).
enum class SweepPlotSpeedup { steps, time };
void plot_sweep(const SweepResult& result, const std::filesystem::path& path,
                SweepPlotSpeedup speedup = SweepPlotSpeedup::steps, double rho = 0);

}  // namespace localsgd::core
