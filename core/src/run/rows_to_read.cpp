#include "rows_to_read.hpp"

#include <algorithm>
#include <cmath>
#include <exception>

#include "localsgd/core/engine/evaluation.hpp"
#include "localsgd/core/engine/partition.hpp"
#include "localsgd/core/io/make_model.hpp"
#include "localsgd/core/plugins/call_plugin.hpp"
#include "localsgd/core/run/default_step.hpp"

namespace localsgd::core {

std::vector<std::int64_t> intercept_rows(std::int64_t rows) {
  const std::int64_t m = std::min(rows, kInterceptRows);
  std::vector<std::int64_t> sample(static_cast<std::size_t>(m));
  for (std::int64_t k = 0; k < m; ++k)
    sample[static_cast<std::size_t>(k)] = rows > kInterceptRows ? k * rows / kInterceptRows : k;
  return sample;
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
  return [options, local](std::span<const double> labels, std::int64_t entries) {
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
    if (options.step_rule() == StepRule::automatic)
      mark(default_step_rows(rows, entries, options.seed));
    if (!options.init.empty()) mark(intercept_rows(rows));
    return keep;
  };
}

void read_every_row_if_needed(Problem& problem, const TrainOptions& options,
                              Communicator& communicator) {
  if (!problem.rows_selected()) return;  // the same on every rank (rows_to_read)
  std::exception_ptr error;
  double needs_all = 0;
  try {
    const Objective& objective = problem.objective();
    const Manifest& manifest = problem.objective_manifest();
    const DataView data = problem.data();
    // The objective rebuilt on a few rows from its resolved parameters must be the same
    // function on them, at a point where every part of f counts.
    std::vector<std::int64_t> first(
        static_cast<std::size_t>(std::min<std::int64_t>(64, data.rows())));
    for (std::size_t k = 0; k < first.size(); ++k) first[k] = static_cast<std::int64_t>(k);
    const Dataset sample = copy_rows(data, first);
    const auto rebuilt = build_objective(
        manifest, ParamMap(recorded_params(problem.spec().objective.params, objective)), sample,
        data.cols);
    const auto dimension = static_cast<std::size_t>(objective.dimension());
    if (static_cast<std::size_t>(rebuilt->dimension()) != dimension) {
      needs_all = 1;
    } else {
      std::vector<double> point(dimension);
      for (std::size_t i = 0; i < dimension; ++i)
        point[i] = 0.1 * std::sin(1.0 + static_cast<double>(i));
      const double here = call_plugin(manifest, "the evaluation of f", [&] {
        return evaluate_objective(objective, sample.view(), point);
      });
      const double there = call_plugin(manifest, "the evaluation of f", [&] {
        return evaluate_objective(*rebuilt, sample.view(), point);
      });
      if (!(std::abs(here - there) <= 1e-12 * std::max(1.0, std::abs(here)))) needs_all = 1;
    }
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
  std::vector<double> votes{needs_all};
  communicator.sum_uncounted(votes);
  if (votes[0] == 0) return;
  error = nullptr;
  try {
    problem.reload();
  } catch (...) {
    error = std::current_exception();
  }
  communicator.agree(error);
}

}  // namespace localsgd::core
