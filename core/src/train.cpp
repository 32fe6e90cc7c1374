#include "localsgd/core/train.hpp"

#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <sstream>

#include "localsgd/core/errors.hpp"
#include "localsgd/core/evaluate.hpp"
#include "localsgd/core/fstar_cache.hpp"
#include "localsgd/core/loading.hpp"
#include "localsgd/core/make_model.hpp"
#include "localsgd/core/model_io.hpp"
#include "localsgd/core/partition.hpp"
#include "localsgd/core/plot.hpp"
#include "localsgd/core/plugins.hpp"
#include "localsgd/core/rng.hpp"
#include "localsgd/core/step_size.hpp"

namespace localsgd::core {
namespace {

using nlohmann::ordered_json;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
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

// Everything a progress event or the summary reports about a model x̂ (and x̄).
struct Quality {
  double objective = 0, objective_last = 0, grad_norm = 0;
  std::optional<double> suboptimality, rel_suboptimality;
  Score test;
};

class Assessor {
 public:
  Assessor(const Objective& objective, const DataView& data, std::optional<double> fstar,
           const Dataset* test, const Objective* test_objective)
      : objective_(objective),
        data_(data),
        fstar_(fstar),
        test_(test),
        test_objective_(test_objective),
        all_rows_(static_cast<std::size_t>(data.rows())),
        gradient_(static_cast<std::size_t>(objective.dimension())) {
    std::iota(all_rows_.begin(), all_rows_.end(), std::int64_t{0});
  }

  Quality assess(const std::vector<double>& x_hat, const std::vector<double>& x_bar) {
    Quality q = assess_objective(x_hat);
    q.objective_last = evaluate_objective(objective_, data_, x_bar);
    objective_.loss_and_gradient(data_, all_rows_, x_hat, gradient_);
    q.grad_norm =
        std::sqrt(std::inner_product(gradient_.begin(), gradient_.end(), gradient_.begin(), 0.0));
    if (test_ != nullptr) q.test = score_predictions(*test_objective_, test_->view(), x_hat);
    return q;
  }

  Quality assess_objective(const std::vector<double>& x_hat) const {
    Quality q;
    q.objective = evaluate_objective(objective_, data_, x_hat);
    if (fstar_) {
      q.suboptimality = q.objective - *fstar_;
      q.rel_suboptimality = *q.suboptimality / std::max(std::abs(*fstar_), 1e-300);
    }
    return q;
  }

  static void put(ordered_json& event, const Quality& q) {
    event["objective"] = q.objective;
    event["objective_last"] = q.objective_last;
    event["suboptimality"] = q.suboptimality ? ordered_json(*q.suboptimality) : ordered_json();
    event["rel_suboptimality"] =
        q.rel_suboptimality ? ordered_json(*q.rel_suboptimality) : ordered_json();
    event["grad_norm"] = q.grad_norm;
    if (q.test.accuracy) event["test_accuracy"] = *q.test.accuracy;
    if (q.test.rmse) event["test_rmse"] = *q.test.rmse;
  }

 private:
  const Objective& objective_;
  const DataView& data_;
  const std::optional<double> fstar_;
  const Dataset* test_;
  const Objective* test_objective_;
  std::vector<std::int64_t> all_rows_;
  std::vector<double> gradient_;
};

// Progress events every `every` steps, and the --target stopping rule.
class TrainMonitor final : public Monitor {
 public:
  TrainMonitor(std::int64_t every, std::int64_t samples_per_step, std::int64_t rows,
               Assessor& assessor, const TrainRequest& request, const ProgressCallback& on_progress)
      : every_(every),
        samples_per_step_(samples_per_step),
        rows_(rows),
        assessor_(assessor),
        request_(request),
        on_progress_(on_progress),
        start_(std::chrono::steady_clock::now()) {}

  std::int64_t next_evaluation(std::int64_t step) const override {
    return every_ > 0 ? (step / every_ + 1) * every_ : std::numeric_limits<std::int64_t>::max();
  }

  bool evaluate(const Snapshot& s) override {
    // Without anyone to report to (a sweep's runs), only f(x̂) decides: skip f(x̄), the
    // gradient norm and the test score, two to three more passes over the data each.
    const Quality q =
        on_progress_ ? assessor_.assess(s.x_hat, s.x_bar) : assessor_.assess_objective(s.x_hat);
    const bool reached = target_reached(q);
    if (on_progress_) {
      ordered_json e;
      e["event"] = "progress";
      e["schema"] = 1;
      e["step"] = s.step;
      e["rounds"] = s.rounds;
      e["grad_evals"] = s.step * samples_per_step_;
      e["epochs"] = static_cast<double>(s.step * samples_per_step_) / static_cast<double>(rows_);
      Assessor::put(e, q);
      e["seconds"] = seconds_since(start_);
      on_progress_(e);
    }
    if (reached && !reached_at_) reached_at_ = s.step;
    return reached;
  }

  std::optional<std::int64_t> reached_at() const { return reached_at_; }

 private:
  bool target_reached(const Quality& q) const {
    if (request_.target && q.suboptimality) return *q.suboptimality <= *request_.target;
    if (request_.target_rel && q.rel_suboptimality)
      return *q.rel_suboptimality <= *request_.target_rel;
    return false;
  }

  const std::int64_t every_, samples_per_step_, rows_;
  Assessor& assessor_;
  const TrainRequest& request_;
  const ProgressCallback& on_progress_;
  const std::chrono::steady_clock::time_point start_;
  std::optional<std::int64_t> reached_at_;
};

// The run's progress on log scale: suboptimality when f* is known (points at or below 0
// cannot be drawn and are left out), else the objective.
void plot_progress(const std::string& path, const std::vector<std::pair<double, double>>& curve,
                   bool suboptimality, const char* plugin) {
  std::ostringstream commands;
  commands << "set title 'localsgd train: " << plugin << "'\nset xlabel 'epochs'\n"
           << "set ylabel '" << (suboptimality ? "f(x_hat) - f*" : "f(x_hat)") << "' noenhanced\n"
           << "set logscale y\nset grid\nset key off\n"
           << "plot '-' using 1:2 with linespoints pt 7 ps 0.5\n";
  std::size_t drawn = 0;
  for (const auto& [epochs, value] : curve)
    if (value > 0) {
      commands << std::setprecision(17) << epochs << ' ' << value << '\n';
      ++drawn;
    }
  commands << "e\n";
  if (drawn == 0) throw RuntimeFailure("--plot: no positive values to draw on a log scale");
  draw_with_gnuplot(path, commands.str());
}

// "1,1,0.5", "random" (seeded: uniform in [0.25, 1]) or "" (all equal).
std::vector<double> worker_speeds(const std::string& text, std::int64_t workers,
                                  std::uint64_t seed) {
  std::vector<double> speeds;
  if (text.empty()) return std::vector<double>(static_cast<std::size_t>(workers), 1.0);
  if (text == "random") {
    RandomStream stream(seed, 0x7370656564732121ull, 0);
    for (std::int64_t k = 0; k < workers; ++k) speeds.push_back(0.25 + 0.75 * stream.uniform());
    return speeds;
  }
  std::stringstream list(text);
  std::string item;
  ParamMap probe;
  while (std::getline(list, item, ',')) {
    probe.set("speed", item);
    try {
      speeds.push_back(probe.positive_number("speed", 1));
    } catch (const ParamError&) {
      throw UsageError("--worker-speeds " + text + ": '" + item + "' is not a positive number");
    }
  }
  return speeds;
}

std::vector<double> initial_model(const TrainRequest& request, const Manifest& manifest,
                                  const Objective& objective) {
  if (request.init.empty()) return {};
  Model model = load_model(request.init);
  if (model.objective != manifest.name)
    throw UsageError("--init " + request.init + " is a '" + model.objective +
                     "' model; this run trains '" + manifest.name + "'");
  if (static_cast<std::int64_t>(model.coefficients.size()) != objective.dimension())
    throw UsageError("--init " + request.init + " has " +
                     std::to_string(model.coefficients.size()) + " coefficients; the objective " +
                     "on this data has " + std::to_string(objective.dimension()));
  return std::move(model.coefficients);
}

}  // namespace

TrainOutcome train(const TrainRequest& request, const ProgressCallback& on_progress) {
  if (request.workers < 1) throw UsageError("--workers must be at least 1");
  if (request.batch < 1) throw UsageError("--batch must be at least 1");
  if (request.target && request.target_rel)
    throw UsageError("give --target or --target-rel, not both");
  if (request.eval_every < 0) throw UsageError("--eval-every must be >= 0");
  if (!request.plot.empty() && !request.plot.ends_with(".svg") && !request.plot.ends_with(".png"))
    throw UsageError("--plot " + request.plot + ": use a .svg or .png file");

  const auto load_start = std::chrono::steady_clock::now();
  const Manifest& objective_manifest = load_plugin(request.objective, PluginKind::objective);
  const Manifest& schedule_manifest = load_plugin(request.schedule, PluginKind::schedule);
  std::optional<Dataset> loaded;
  if (request.preloaded == nullptr)
    loaded = load_dataset(request.data, request.reader, request.reader_params);
  const Dataset& dataset = request.preloaded != nullptr ? *request.preloaded : *loaded;
  const DataView data = dataset.view();
  std::unique_ptr<Objective> built;
  if (request.prebuilt_objective == nullptr)
    built = build_objective(objective_manifest, request.objective_params, dataset);
  const Objective* const objective =
      request.prebuilt_objective != nullptr ? request.prebuilt_objective : built.get();

  // Test data is scored with the objective rebuilt from the training run's resolved
  // parameters (e.g. lambda = 1/n of the training data, the same classes).
  std::optional<Dataset> test;
  std::unique_ptr<Objective> test_objective;
  if (!request.test.empty()) {
    test = load_dataset(request.test, request.reader, request.reader_params);
    if (test->cols > data.cols) drop_columns_from(*test, data.cols);
    test_objective =
        build_objective(objective_manifest, objective->resolved_params(), *test, data.cols);
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

  std::optional<double> fstar = request.fstar;
  const bool targeted = request.target || request.target_rel;
  if (targeted && !fstar) {
    if (!objective->curvature().convex)
      throw UsageError("--target needs f*, and this objective is not convex: give --fstar");
    fstar = cached_fstar(objective_manifest, *objective, data, std::cerr);
  }
  const double load_seconds = seconds_since(load_start);

  EngineConfig config;
  config.workers = request.workers;
  config.batch = request.batch * multiplier;
  config.steps = (resolve_steps(request, data.rows()) + multiplier - 1) / multiplier;
  config.seed = request.seed;
  config.schedule_name = schedule_manifest.name;
  config.threads = request.threads;
  config.avg_shift =
      request.avg_shift.value_or(step_size->shift().value_or(static_cast<double>(period)));
  config.initial_model = initial_model(request, objective_manifest, *objective);
  Partition partition = make_partition(request.partition, request.partition_params, data,
                                       config.workers, config.seed);
  config.partition = std::move(partition.rows);
  config.sampling = parse_sampling(request.sampling);
  if (request.async) {
    config.async.enabled = true;
    config.async.speeds = worker_speeds(request.worker_speeds, config.workers, config.seed);
    if (request.max_staleness >= 0) config.async.max_staleness = request.max_staleness;
  } else if (!request.worker_speeds.empty() || request.max_staleness >= 0) {
    throw UsageError("--worker-speeds and --max-staleness need --async");
  }

  // Evaluate every --eval-every steps; with a target and no --eval-every, once per epoch.
  const std::int64_t samples_per_step = config.workers * config.batch;
  std::int64_t every = request.eval_every;
  const std::int64_t steps_per_epoch =
      std::max<std::int64_t>(1, (data.rows() + samples_per_step - 1) / samples_per_step);
  if (every == 0 && targeted) every = steps_per_epoch;
  if (every == 0 && !request.plot.empty()) every = std::max<std::int64_t>(1, steps_per_epoch / 8);
  std::vector<std::pair<double, double>> curve;  // (epochs, suboptimality or f) for --plot
  const ProgressCallback record = [&](const ordered_json& e) {
    if (!request.plot.empty())
      curve.emplace_back(e["epochs"].get<double>(),
                         fstar ? e["suboptimality"].get<double>() : e["objective"].get<double>());
    if (on_progress) on_progress(e);
  };
  Assessor assessor(*objective, data, fstar, test ? &*test : nullptr, test_objective.get());
  const ProgressCallback listener =
      on_progress || !request.plot.empty() ? record : ProgressCallback();
  TrainMonitor monitor(every, samples_per_step, data.rows(), assessor, request, listener);

  TrainOutcome outcome;
  outcome.result = run_local_sgd(*objective, data, *schedule, *step_size, config,
                                 every > 0 ? &monitor : nullptr);
  const EngineResult& r = outcome.result;
  const Quality q = assessor.assess(r.x_hat, r.x_last);

  const double final_epochs = static_cast<double>(r.grad_evals) / static_cast<double>(data.rows());
  if (curve.empty() || curve.back().first < final_epochs)
    curve.emplace_back(final_epochs, fstar ? *q.suboptimality : q.objective);
  if (!request.plot.empty())
    plot_progress(request.plot, curve, fstar.has_value(), objective_manifest.name);
  if (!request.out.empty()) {
    save_model(request.out, make_model(objective_manifest, request.objective_params, *objective,
                                       data.cols, r.x_hat));
  }

  const auto dimension = static_cast<std::int64_t>(r.x_hat.size());
  ordered_json s;
  s["event"] = "summary";
  s["schema"] = 1;
  s["plugin"] = objective_manifest.name;
  s["data"] = dataset.source;
  s["rows"] = data.rows();
  s["cols"] = data.cols;
  s["nnz"] = data.nnz();
  s["dimension"] = dimension;
  s["schedule"] = schedule_manifest.name;
  s["lr"] = step_size->describe();
  s["workers"] = config.workers;
  s["local_steps"] = period;
  s["partition"] = partition.description;
  s["sampling"] = to_string(config.sampling);
  if (config.async.enabled) {
    s["async"] = true;
    s["worker_speeds"] = config.async.speeds;
    s["max_staleness"] = r.max_staleness;
    s["mean_staleness"] = r.mean_staleness;
  }
  s["batch"] = config.batch;
  s["steps"] = r.steps;
  s["epochs"] = static_cast<double>(r.grad_evals) / static_cast<double>(data.rows());
  s["rounds"] = r.rounds;
  s["grad_evals"] = r.grad_evals;
  // Communication: every round averages all K models of dimension d (8-byte doubles).
  s["vectors_averaged"] = r.rounds * config.workers;
  s["bytes_averaged"] = r.rounds * config.workers * dimension * 8;
  s["comm_ratio"] =
      static_cast<double>(r.rounds) / static_cast<double>(std::max<std::int64_t>(1, r.steps));
  s["seed"] = config.seed;
  s["avg_shift"] = config.avg_shift;
  s["fstar"] = fstar ? ordered_json(*fstar) : ordered_json();
  Assessor::put(s, q);
  if (targeted) {
    s["target"] = request.target ? *request.target : *request.target_rel;
    s["target_kind"] = request.target ? "absolute" : "relative";
    s["target_reached"] = monitor.reached_at().has_value();
    s["steps_to_target"] =
        monitor.reached_at() ? ordered_json(*monitor.reached_at()) : ordered_json();
  }
  s["model"] = request.out.empty() ? ordered_json(nullptr) : ordered_json(request.out);
  s["threads"] = r.threads;
  s["load_seconds"] = load_seconds;
  s["seconds"] = r.seconds;
  s["train_seconds"] = r.seconds - r.eval_seconds;
  s["sync_seconds"] = r.sync_seconds;
  s["eval_seconds"] = r.eval_seconds;
  s["samples_per_second"] = r.seconds > 0 ? static_cast<double>(r.grad_evals) / r.seconds : 0.0;
  outcome.summary = std::move(s);
  return outcome;
}

}  // namespace localsgd::core
