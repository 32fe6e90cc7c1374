#include "rows_to_read.hpp"

#include <algorithm>
#include <cmath>
#include <exception>

#include "engine/mpi_communicator.hpp"
#include "localsgd/core/engine/evaluation.hpp"
#include "localsgd/core/engine/partition.hpp"
#include "localsgd/core/io/make_model.hpp"
#include "localsgd/core/plugins/call_plugin.hpp"
#include "localsgd/core/run/default_step.hpp"
#include "memory_budget.hpp"

namespace localsgd::core {

Dataset common_rows(const DataView& data) {
  std::vector<std::int64_t> rows(static_cast<std::size_t>(std::min(data.rows(), kCommonRows)));
  for (std::size_t k = 0; k < rows.size(); ++k) rows[k] = static_cast<std::int64_t>(k);
  return copy_rows(data, rows);
}

std::vector<double> test_point(std::size_t dimension) {
  std::vector<double> point(dimension);
  for (std::size_t i = 0; i < dimension; ++i)
    point[i] = 0.1 * std::sin(1.0 + static_cast<double>(i));
  return point;
}

bool same_value(double a, double b) {
  return std::abs(a - b) <= 1e-12 * std::max(1.0, std::abs(a));
}

RowSelector rows_to_read(const TrainOptions& options, const Communicator& communicator) {
  const bool spread = options.partition != PartitionKind::shared;
  const StepRule rule = options.step_rule();
  // The default rule probes a sample; a constant η needs nothing; other rules may take
  // the curvature of every row.
  const bool step_known =
      rule == StepRule::automatic || (rule == StepRule::constant && options.lr_params.has("eta"));
  const bool solves_fstar = (options.targeted() || options.fit_rate) && !options.fstar;
  if (communicator.ranks() <= 1 || !spread || !step_known || solves_fstar) return {};
  const WorkerRange local = communicator.local_workers(options.workers);
  return [options, rule, local](std::span<const double> labels, std::int64_t entries) {
    const auto rows = static_cast<std::int64_t>(labels.size());
    std::vector<bool> keep(labels.size(), false);
    const auto mark = [&](const std::vector<std::int64_t>& some) {
      for (const std::int64_t i : some) keep[static_cast<std::size_t>(i)] = true;
    };
    {  // a partition needs the row count, the seed and (label-skew) the labels only
      DataView labelled;
      labelled.label = labels;
      const Partition partition =
          make_partition(to_string(options.partition), options.partition_params, labelled,
                         options.workers, options.seed);
      for (std::int64_t k = local.begin; k < local.end; ++k)
        mark(partition.rows[static_cast<std::size_t>(k)]);
    }
    if (rule == StepRule::automatic) mark(default_step_rows(rows, entries, options.seed));
    for (std::int64_t i = 0; i < std::min(rows, kCommonRows); ++i)
      keep[static_cast<std::size_t>(i)] = true;
    return keep;
  };
}

void read_every_row_if_needed(Problem& problem, const TrainOptions& options,
                              Communicator& communicator) {
  if (!problem.rows_selected()) return;  // the same on every rank (rows_to_read)
  std::exception_ptr error;
  double needs_all = 0, here = 0;
  try {
    const Objective& objective = problem.objective();
    const Manifest& manifest = problem.objective_manifest();
    const DataView data = problem.data();
    const auto dimension = static_cast<std::size_t>(objective.dimension());
    // A model that cannot fit is refused here as train refuses it, before the test point
    // below allocates it (d = 2^31 would take 17 GB a rank).
    check_memory(communicator.local_workers(options.workers).size(), objective.dimension(),
                 options.batch, 0, MpiCommunicator::world().node_ranks());
    // The objective rebuilt on the common rows from its resolved parameters must be the
    // same function on them, at a point where every part of f counts.
    const Dataset sample = common_rows(data);
    const auto rebuilt = build_objective(
        manifest, ParamMap(recorded_params(problem.spec().objective.params, objective)), sample,
        data.cols);
    const std::vector<double> point = test_point(dimension);
    here = call_plugin(manifest, "the evaluation of f",
                       [&] { return evaluate_objective(objective, sample.view(), point); });
    if (static_cast<std::size_t>(rebuilt->dimension()) != dimension ||
        !same_value(here, call_plugin(manifest, "the evaluation of f", [&] {
                      return evaluate_objective(*rebuilt, sample.view(), point);
                    })))
      needs_all = 1;
    // Without --init a margin model's intercept starts at its best value for the starting
    // weights: at weights 0 the rows' features do not matter, else they do.
    const MarginObjective* margin = objective.as_margin();
    if (options.init.empty() && margin != nullptr && margin->has_intercept()) {
      std::vector<double> start(dimension);
      objective.initial_point(options.seed, start);
      if (std::any_of(start.begin(), start.begin() + data.cols, [](double w) { return w != 0; }))
        needs_all = 1;
    }
  } catch (...) {
    error = std::current_exception();
  }
  communicator.agree(error);
  // And every rank's objective the same function on them.
  std::vector<double> sums{here, needs_all};
  communicator.sum_uncounted(sums);
  const double mean = sums[0] / communicator.ranks();
  std::vector<double> votes{same_value(here, mean) ? 0.0 : 1.0};
  communicator.sum_uncounted(votes);
  if (votes[0] == 0 && sums[1] == 0) return;
  error = nullptr;
  try {
    problem.reload();
  } catch (...) {
    error = std::current_exception();
  }
  communicator.agree(error);
}

}  // namespace localsgd::core
