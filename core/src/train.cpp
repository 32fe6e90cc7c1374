#include "localsgd/core/train.hpp"

#include <chrono>
#include <cmath>

#include <tbb/task_arena.h>

#include "localsgd/core/errors.hpp"
#include "localsgd/core/model_io.hpp"
#include "localsgd/core/plugins.hpp"
#include "localsgd/core/step_size.hpp"

namespace localsgd::core {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Dataset load_data(const TrainRequest& request) {
  const std::string reader_name =
      !request.reader.empty() ? request.reader : (request.data.empty() ? "synthetic" : "libsvm");
  const Manifest& manifest = load_plugin(reader_name, PluginKind::reader);
  auto reader = make_reader(manifest, request.reader_params);
  Dataset data = call_plugin(manifest, "read", [&] { return reader->read({request.data}); });
  if (data.rows() == 0) throw DataError(request.data, 0, 0, "the data set has no rows");
  if (data.row_ptr.size() != data.label.size() + 1 ||
      data.row_ptr.back() != static_cast<std::int64_t>(data.index.size()) ||
      data.index.size() != data.value.size())
    throw PluginError("reader '" + reader_name + "' returned an inconsistent CSR matrix");
  return data;
}

std::int64_t resolve_steps(const TrainRequest& r, std::int64_t rows) {
  if (r.steps && r.epochs) throw UsageError("give --steps or --epochs, not both");
  if (r.steps) {
    if (*r.steps < 1) throw UsageError("--steps must be at least 1");
    return *r.steps;
  }
  const double epochs = r.epochs.value_or(10.0);
  if (!(epochs > 0) || !std::isfinite(epochs)) throw UsageError("--epochs must be > 0");
  const double steps =
      std::ceil(epochs * static_cast<double>(rows) / static_cast<double>(r.workers * r.batch));
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(steps));
}

}  // namespace

TrainOutcome train(const TrainRequest& request) {
  if (request.workers < 1) throw UsageError("--workers must be at least 1");
  if (request.batch < 1) throw UsageError("--batch must be at least 1");

  const auto load_start = std::chrono::steady_clock::now();
  const Manifest& objective_manifest = load_plugin(request.objective, PluginKind::objective);
  const Manifest& schedule_manifest = load_plugin(request.schedule, PluginKind::schedule);
  const Dataset dataset = load_data(request);
  const DataView data = dataset.view();

  std::unique_ptr<Objective> objective;
  try {
    objective = make_objective(objective_manifest, request.objective_params, data);
  } catch (const DataError& e) {  // objectives do not know the file name; add it
    if (!e.file().empty()) throw;
    throw DataError(dataset.source, e.line(), e.column(), e.what());
  }
  auto schedule = make_schedule(schedule_manifest, request.schedule_params);
  const std::int64_t period =
      call_plugin(schedule_manifest, "nominal_period", [&] { return schedule->nominal_period(); });
  // A mini-batch baseline schedule trades steps for batch size at equal samples.
  const std::int64_t multiplier = call_plugin(schedule_manifest, "batch_multiplier",
                                              [&] { return schedule->batch_multiplier(); });
  if (multiplier < 1) throw PluginError("schedule returned a batch multiplier below 1");

  const auto step_size = call_plugin(objective_manifest, "curvature", [&] {
    return make_step_size(request.step_size, request.step_size_params,
                          {*objective, request.batch * multiplier, data.rows(), period});
  });
  const double load_seconds = seconds_since(load_start);

  EngineConfig config;
  config.workers = request.workers;
  config.batch = request.batch * multiplier;
  config.steps = (resolve_steps(request, data.rows()) + multiplier - 1) / multiplier;
  config.seed = request.seed;
  config.threads = request.threads;
  config.avg_shift =
      request.avg_shift.value_or(step_size->shift().value_or(static_cast<double>(period)));

  TrainOutcome outcome;
  outcome.result = run_local_sgd(*objective, data, *schedule, *step_size, config);
  const EngineResult& r = outcome.result;
  const double f_hat = evaluate_objective(*objective, data, r.x_hat);
  const double f_last = evaluate_objective(*objective, data, r.x_last);

  if (!request.out.empty()) {
    Model model{objective_manifest.name, request.objective_params.all(), data.cols, r.x_hat};
    const ParamMap resolved = objective->resolved_params();
    for (const auto& [key, value] : resolved.all()) model.params[key] = value;
    save_model(request.out, model);
  }

  using nlohmann::ordered_json;
  ordered_json s;
  s["event"] = "summary";
  s["schema"] = 1;
  s["plugin"] = objective_manifest.name;
  s["data"] = dataset.source;
  s["rows"] = data.rows();
  s["cols"] = data.cols;
  s["nnz"] = data.nnz();
  s["schedule"] = schedule_manifest.name;
  s["lr"] = step_size->describe();
  s["workers"] = config.workers;
  s["local_steps"] = period;
  s["batch"] = config.batch;
  s["steps"] = r.steps;
  s["epochs"] = static_cast<double>(r.grad_evals) / static_cast<double>(data.rows());
  s["rounds"] = r.rounds;
  s["grad_evals"] = r.grad_evals;
  s["seed"] = config.seed;
  s["avg_shift"] = config.avg_shift;
  s["objective"] = f_hat;
  s["objective_last"] = f_last;
  if (request.fstar) {
    s["fstar"] = *request.fstar;
    s["suboptimality"] = f_hat - *request.fstar;
    s["rel_suboptimality"] = (f_hat - *request.fstar) / std::abs(*request.fstar);
  } else {
    s["fstar"] = nullptr;
    s["suboptimality"] = nullptr;
    s["rel_suboptimality"] = nullptr;
  }
  s["model"] = request.out.empty() ? nlohmann::ordered_json(nullptr) : ordered_json(request.out);
  s["threads"] = request.threads > 0 ? request.threads : tbb::this_task_arena::max_concurrency();
  s["load_seconds"] = load_seconds;
  s["seconds"] = r.seconds;
  s["samples_per_second"] = r.seconds > 0 ? static_cast<double>(r.grad_evals) / r.seconds : 0.0;
  outcome.summary = std::move(s);
  return outcome;
}

}  // namespace localsgd::core
