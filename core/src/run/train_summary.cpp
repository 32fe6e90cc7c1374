#include "localsgd/core/run/train_summary.hpp"

#include <algorithm>

#include "localsgd/core/io/report.hpp"
#include "localsgd/core/version.hpp"

namespace localsgd::core {
namespace {

using nlohmann::ordered_json;

ordered_json or_null(const std::optional<double>& v) {
  return v ? ordered_json(*v) : ordered_json();
}

}  // namespace

void Quality::put(ordered_json& event) const {
  event["objective"] = objective;
  event["objective_last"] = objective_last;
  event["suboptimality"] = or_null(suboptimality);
  event["rel_suboptimality"] = or_null(rel_suboptimality);
  event["grad_norm"] = grad_norm;
  if (test_accuracy) event["test_accuracy"] = *test_accuracy;
  if (test_rmse) event["test_rmse"] = *test_rmse;
}

ordered_json Progress::to_json() const {
  ordered_json e;
  e["event"] = "progress";
  e["schema"] = 1;
  e["step"] = step;
  e["rounds"] = rounds;
  e["grad_evals"] = grad_evals;
  e["epochs"] = epochs;
  quality.put(e);
  e["seconds"] = seconds;
  return e;
}

ordered_json TrainSummary::to_json() const {
  ordered_json s;
  s["event"] = "summary";
  s["schema"] = 1;
  s["plugin"] = plugin;
  s["data"] = data;
  s["rows"] = rows;
  s["cols"] = cols;
  s["nnz"] = nnz;
  s["dimension"] = dimension;
  s["schedule"] = schedule;
  s["lr"] = lr;
  s["preconditioner"] = preconditioner;
  s["workers"] = workers;
  s["local_steps"] = local_steps;
  s["partition"] = partition;
  s["sampling"] = sampling;
  if (async) {
    s["async"] = true;
    s["worker_speeds"] = async->worker_speeds;
    s["max_staleness"] = async->max_staleness;
    s["mean_staleness"] = async->mean_staleness;
  }
  s["batch"] = batch;
  s["steps"] = steps;
  s["epochs"] = epochs;
  s["rounds"] = rounds;
  s["grad_evals"] = grad_evals;
  s["vectors_averaged"] = vectors_averaged();
  s["bytes_averaged"] = bytes_averaged();
  s["comm_ratio"] =
      static_cast<double>(rounds) / static_cast<double>(std::max<std::int64_t>(1, steps));
  s["seed"] = seed;
  s["avg_shift"] = avg_shift;
  s["fstar"] = or_null(fstar);
  quality.put(s);
  if (target) {
    s["target"] = target->value;
    s["target_kind"] = target->relative ? "relative" : "absolute";
    s["target_reached"] = target->reached_at.has_value();
    s["steps_to_target"] = target->reached_at ? ordered_json(*target->reached_at) : ordered_json();
  }
  if (rate_requested) {
    s["rate_slope"] = rate ? ordered_json(rate->slope) : ordered_json();
    s["rate_constant"] = rate ? ordered_json(rate->constant) : ordered_json();
    s["rate_from_step"] = rate ? ordered_json(rate->from_step) : ordered_json();
    s["rate_points"] = rate ? rate->points : 0;
  }
  s["model"] = model.empty() ? ordered_json(nullptr) : ordered_json(model);
  // The file only once this run wrote it: a run shorter than its checkpoint interval
  // (a minute by default) writes none.
  if (!checkpoint.empty()) {
    s["checkpoint"] = checkpoint_step ? ordered_json(checkpoint) : ordered_json(nullptr);
    s["checkpoint_step"] = checkpoint_step ? ordered_json(*checkpoint_step) : ordered_json();
  }
  if (!interrupted.empty()) s["interrupted"] = interrupted;
  s["threads"] = threads;
  s["load_seconds"] = load_seconds;
  s["seconds"] = seconds;
  const double train_seconds = seconds - eval_seconds;  // samples/s count training alone
  s["train_seconds"] = train_seconds;
  s["sync_seconds"] = sync_seconds;
  s["eval_seconds"] = eval_seconds;
  s["backend"] = mpi ? "mpi" : "threads";
  if (mpi) {
    s["ranks"] = mpi->ranks;
    s["exchange_seconds"] = mpi->exchange_seconds;
    s["inter_rank_rounds"] = mpi->inter_rank_rounds;
    s["exchanged_values"] = mpi->exchanged_values;
    s["rank_rows"] = mpi->rank_rows;
    s["rank_rows_read"] = mpi->rank_rows_read;
    s["compute_seconds"] = seconds - eval_seconds - mpi->exchange_seconds;
  }
  s["samples_per_second"] =
      train_seconds > 0 ? static_cast<double>(grad_evals) / train_seconds : 0.0;
  // Which build produced these numbers; last, so that CSV columns keep their places.
  s["version"] = version();
  s["objective_params"] = objective_params;
  s["schedule_params"] = schedule_params;
  s["reader"] = reader;
  s["reader_params"] = reader_params;
  return s;
}

std::vector<std::string> train_csv_columns() {
  Quality every_quality;
  every_quality.suboptimality = every_quality.rel_suboptimality = 0;
  every_quality.test_accuracy = every_quality.test_rmse = 0;
  Progress progress;
  progress.quality = every_quality;
  TrainSummary summary;
  summary.quality = every_quality;
  summary.async = TrainSummary::Async{};
  summary.target = TrainSummary::Target{};
  summary.rate_requested = true;
  summary.checkpoint = summary.interrupted = "-";
  summary.checkpoint_step = 0;
  summary.mpi = TrainSummary::Mpi{};
  return union_of_keys({progress.to_json(), summary.to_json()});
}

}  // namespace localsgd::core
