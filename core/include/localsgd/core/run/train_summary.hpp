// What a training run reports: a plain struct, in the style of Ceres' Solver::Summary.
// The table, JSON and CSV outputs are all views of to_json() (README "Output and exit codes" names
// the keys scripts depend on).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "localsgd/core/solve/rate_fit.hpp"

namespace localsgd::core {

// How good a model is: at x̂ (and x̄ where noted).
struct Quality {
  double objective = 0;                                    // f(x̂)
  double objective_last = 0;                               // f(x̄)
  double grad_norm = 0;                                    // |∇f(x̂)|
  std::optional<double> suboptimality, rel_suboptimality;  // when f* is known
  std::optional<double> test_accuracy, test_rmse;          // with test data

  void put(nlohmann::ordered_json& event) const;
};

// One evaluation during a run (a `progress` event).
struct Progress {
  std::int64_t step = 0, rounds = 0, grad_evals = 0;
  double epochs = 0;
  Quality quality;
  double seconds = 0;  // since the start of the run
  // The models evaluated, valid during the callback: x̂ and x̄ (the workers' mean).
  std::span<const double> x_hat, x_bar;

  nlohmann::ordered_json to_json() const;
};

struct TrainSummary {
  std::string plugin, data;
  std::int64_t rows = 0, cols = 0, nnz = 0, dimension = 0;
  std::string schedule, lr;
  // The effective parameters (after the ranks' and plugins' defaults where they report
  // them): with the names above, enough to say which run this was. Printed after
  // "version" so that older CSV columns keep their places.
  std::map<std::string, std::string> objective_params, schedule_params, reader_params;
  std::string reader;
  std::string preconditioner = "none";  // the default rule's change of variables, if any
  std::int64_t workers = 0, local_steps = 0;
  std::string partition, sampling;
  struct Async {
    std::vector<double> worker_speeds;
    std::int64_t max_staleness = 0;
    double mean_staleness = 0;
  };
  std::optional<Async> async;
  std::int64_t batch = 0, steps = 0;
  double epochs = 0;
  std::int64_t rounds = 0, grad_evals = 0;
  std::uint64_t seed = 0;
  double avg_shift = 0;
  std::optional<double> fstar;
  Quality quality;
  struct Target {
    double value = 0;
    bool relative = false;
    std::optional<std::int64_t> reached_at;  // the step of the evaluation that reached it
  };
  std::optional<Target> target;
  // --fit-rate: f(x̂) - f* ≈ C·T^s over the run's tail (solve/rate_fit.hpp); `requested`
  // without `fit` when too few evaluations had a positive gap.
  bool rate_requested = false;
  std::optional<RateFit> rate;
  std::string model;                            // the --out file, or ""
  std::string checkpoint;                       // the --checkpoint file, or ""
  std::optional<std::int64_t> checkpoint_step;  // of the last checkpoint this run wrote
  std::string interrupted;  // "SIGINT" or "SIGTERM" when a signal ended the run early
  int threads = 1;
  double load_seconds = 0, seconds = 0, sync_seconds = 0, eval_seconds = 0;
  // --backend mpi: the ranks and this rank's time in MPI exchanges (part of sync_seconds).
  struct Mpi {
    int ranks = 1;
    double exchange_seconds = 0;
    std::int64_t inter_rank_rounds = 0;        // syncs whose model data crossed ranks
    std::int64_t exchanged_values = 0;         // values rank 0 summed with other ranks in the run
    std::vector<std::int64_t> rank_rows;       // rows each rank holds during the run, in rank order
    std::vector<std::int64_t> rank_rows_read;  // rows whose features each rank read
  };
  std::optional<Mpi> mpi;

  bool target_reached() const { return target && target->reached_at.has_value(); }
  // Communication: every round averages all K models of dimension d (8-byte doubles).
  std::int64_t vectors_averaged() const { return rounds * workers; }
  std::int64_t bytes_averaged() const { return rounds * workers * dimension * 8; }

  nlohmann::ordered_json to_json() const;  // the `summary` event
};

// Every column of the one CSV table that holds a run's progress rows and its summary row:
// the keys of progress and summary events with every optional part present (progress keys
// first), for EventPrinter::csv_columns.
std::vector<std::string> train_csv_columns();

}  // namespace localsgd::core
