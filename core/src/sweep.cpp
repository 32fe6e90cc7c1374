#include "localsgd/core/sweep.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <tbb/parallel_for.h>

#include "localsgd/core/errors.hpp"
#include "localsgd/core/fstar_cache.hpp"
#include "localsgd/core/loading.hpp"
#include "localsgd/core/plot.hpp"
#include "localsgd/core/plugins.hpp"
#include "localsgd/core/solve.hpp"
#include "localsgd/core/step_size.hpp"

namespace localsgd::core {
namespace {

constexpr double kNever = std::numeric_limits<double>::infinity();

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);  // inf stays inf
}

struct Run {
  std::size_t point;
  std::size_t lr;  // index into lr_values (0 when not tuning)
  std::int64_t repeat;
  double steps = kNever, rounds = kNever;
};

void validate(const SweepRequest& r) {
  if (r.workers.empty() || r.local_steps.empty() || r.batches.empty())
    throw UsageError("sweep needs at least one value of --workers, --local-steps and --batch");
  for (auto v : r.workers)
    if (v < 1) throw UsageError("--workers values must be >= 1");
  for (auto v : r.local_steps)
    if (v < 1) throw UsageError("--local-steps values must be >= 1");
  for (auto v : r.batches)
    if (v < 1) throw UsageError("--batch values must be >= 1");
  if (r.repeats < 1) throw UsageError("--repeats must be >= 1");
  if (!(r.rho >= 0)) throw UsageError("--rho must be >= 0");
  if (!(r.max_epochs > 0)) throw UsageError("--max-epochs must be > 0");
  if (!r.base.target && !r.base.target_rel)
    throw UsageError("sweep needs --target or --target-rel");
  if (!r.lr_values.empty() && r.lr_key.empty()) throw UsageError("--lr-grid needs KEY=v1,v2,...");
}

// EPS in absolute terms: --target, or --target-rel times |f*|.
double target_gap(const SweepRequest& r, double fstar) {
  return r.base.target ? *r.base.target : *r.base.target_rel * std::abs(fstar);
}

// Theorem 2.2's constants for this objective and data (see SweepRequest::theory).
TheoryConstants estimate_constants(const SweepRequest& request, const Dataset& data, double fstar) {
  const Manifest& manifest = load_plugin(request.base.objective, PluginKind::objective);
  const auto objective = build_objective(manifest, request.base.objective_params, data);
  const Curvature curvature = objective->curvature();
  if (!(curvature.L > 0) || !(curvature.mu > 0) || !curvature.convex)
    throw UsageError("--theory needs an objective that reports L and mu");
  TheoryConstants c;
  c.L = curvature.L;
  c.mu = curvature.mu;
  const SolveResult optimum = solve(*objective, data.view());
  std::vector<double> x0(optimum.x.size());
  objective->initial_point(request.base.seed, x0);
  for (std::size_t j = 0; j < x0.size(); ++j)
    c.distance2 += (x0[j] - optimum.x[j]) * (x0[j] - optimum.x[j]);
  c.sigma2 = mean_squared_gradient(*objective, data.view(), optimum.x);

  // G^2: the largest mean squared gradient along a plain SGD run (K = 1, H = 1) from x_0,
  // once per pass, until the target or the budget.
  class Tracker final : public Monitor {
   public:
    Tracker(const Objective& f, const DataView& d, std::int64_t every, double target)
        : f_(f), d_(d), every_(every), target_(target) {}
    std::int64_t next_evaluation(std::int64_t step) const override {
      return (step / every_ + 1) * every_;
    }
    bool evaluate(const Snapshot& s) override {
      g2 = std::max(g2, mean_squared_gradient(f_, d_, s.x_bar));
      return evaluate_objective(f_, d_, s.x_hat) <= target_;
    }
    double g2 = 0;

   private:
    const Objective& f_;
    const DataView& d_;
    std::int64_t every_;
    double target_;
  };
  const std::int64_t b = request.batches.front();
  const double target = fstar + target_gap(request, fstar);
  const DataView view = data.view();  // the tracker keeps a reference: it must outlive it
  Tracker tracker(*objective, view, std::max<std::int64_t>(1, data.rows() / b), target);
  tracker.g2 = mean_squared_gradient(*objective, data.view(), x0);
  const Manifest& constant = load_plugin("constant", PluginKind::schedule);
  ParamMap every_step;
  every_step.set("H", "1");
  auto schedule = make_schedule(constant, every_step);
  const auto rate = make_step_size(request.base.step_size, request.base.step_size_params,
                                   {*objective, b, data.rows(), 1});
  EngineConfig config;
  config.workers = 1;
  config.batch = b;
  config.steps = static_cast<std::int64_t>(request.max_epochs * static_cast<double>(data.rows()) /
                                           static_cast<double>(b));
  config.seed = request.base.seed;
  config.threads = 1;
  config.avg_shift = rate->shift().value_or(1.0);
  run_local_sgd(*objective, data.view(), *schedule, *rate, config, &tracker);
  c.G2 = tracker.g2;
  return c;
}

}  // namespace

SweepResult run_sweep(const SweepRequest& request) {
  validate(request);
  const Dataset data =
      load_dataset(request.base.data, request.base.reader, request.base.reader_params);
  // Built once: every run trains on the same data with the same objective parameters.
  const Manifest& manifest = load_plugin(request.base.objective, PluginKind::objective);
  const auto objective = build_objective(manifest, request.base.objective_params, data);
  SweepResult result;
  if (request.base.fstar) {
    result.fstar = *request.base.fstar;
  } else {
    if (!objective->curvature().convex)
      throw UsageError("sweep needs f*, and this objective is not convex: give --fstar");
    result.fstar = cached_fstar(manifest, *objective, data.view(), std::cerr);
  }

  for (auto K : request.workers)
    for (auto H : request.local_steps)
      for (auto b : request.batches)
        result.points.push_back({K, H, b, {}, 0, 0, 0, {}, {}, {}, {}});
  const std::size_t lr_count = std::max<std::size_t>(1, request.lr_values.size());
  std::vector<Run> runs;
  for (std::size_t p = 0; p < result.points.size(); ++p)
    for (std::size_t l = 0; l < lr_count; ++l)
      for (std::int64_t rep = 0; rep < request.repeats; ++rep) runs.push_back({p, l, rep});

  tbb::parallel_for(std::size_t{0}, runs.size(), [&](std::size_t i) {
    Run& run = runs[i];
    const SweepPoint& point = result.points[run.point];
    TrainRequest r = request.base;
    r.preloaded = &data;
    r.prebuilt_objective = objective.get();
    r.fstar = result.fstar;
    r.workers = point.workers;
    r.batch = point.batch;
    r.schedule = "constant";
    r.schedule_params.set("H", std::to_string(point.local_steps));
    r.seed = request.base.seed + static_cast<std::uint64_t>(run.repeat);
    r.threads = 1;  // parallelism is across runs
    r.steps.reset();
    r.epochs = request.max_epochs;
    r.out.clear();
    r.test.clear();
    const std::int64_t per_epoch = std::max<std::int64_t>(
        1, data.rows() / (point.workers * point.batch * request.evals_per_epoch));
    r.eval_every = per_epoch;
    if (!request.lr_values.empty())
      r.step_size_params.set(request.lr_key, format_number(request.lr_values[run.lr]));
    try {
      const TrainOutcome outcome = train(r);
      if (outcome.summary["target_reached"].get<bool>()) {
        run.steps = outcome.summary["steps"].get<double>();
        run.rounds = outcome.summary["rounds"].get<double>();
      }
    } catch (const RuntimeFailure&) {
      // A step size that diverges simply never reaches the target.
    }
  });

  // Per point: the step-size value with the fewest median steps wins.
  for (std::size_t p = 0; p < result.points.size(); ++p) {
    SweepPoint& point = result.points[p];
    point.steps = kNever;
    for (std::size_t l = 0; l < lr_count; ++l) {
      std::vector<double> steps, rounds;
      for (const Run& run : runs)
        if (run.point == p && run.lr == l) {
          steps.push_back(run.steps);
          rounds.push_back(run.rounds);
        }
      const double m = median(steps);
      if (m < point.steps || (l == 0 && std::isinf(m))) {
        point.steps = m;
        point.rounds = median(rounds);
        point.reached =
            std::count_if(steps.begin(), steps.end(), [](double s) { return std::isfinite(s); });
        if (!request.lr_values.empty()) point.lr_value = request.lr_values[l];
      }
    }
  }
  if (request.theory) {
    const TheoryConstants c = estimate_constants(request, data, result.fstar);
    result.theory = c;
    const double eps = target_gap(request, result.fstar);
    for (SweepPoint& point : result.points) {
      const std::int64_t T =
          theoretical_steps(c, point.workers, point.local_steps, point.batch, eps);
      if (T > 0) point.theory_steps = static_cast<double>(T);
    }
  }
  // Speedups against K = 1 with the same H and b.
  for (SweepPoint& point : result.points) {
    const auto base =
        std::find_if(result.points.begin(), result.points.end(), [&](const SweepPoint& q) {
          return q.workers == 1 && q.local_steps == point.local_steps && q.batch == point.batch;
        });
    if (base != result.points.end() && base->theory_steps && point.theory_steps)
      point.theory_speedup = *base->theory_steps / *point.theory_steps;
    if (base == result.points.end() || !std::isfinite(base->steps) || !std::isfinite(point.steps))
      continue;
    point.speedup = base->steps / point.steps;
    const double b = static_cast<double>(point.batch);
    point.time_speedup = base->steps * b /
                         (point.steps * b + 2.0 * static_cast<double>(point.workers - 1) *
                                                request.rho * point.rounds);
  }
  return result;
}

nlohmann::ordered_json to_json(const SweepPoint& p, const SweepRequest& request) {
  using nlohmann::ordered_json;
  auto number_or_null = [](double v) {
    return std::isfinite(v) ? ordered_json(v) : ordered_json();
  };
  ordered_json e;
  e["event"] = "sweep_point";
  e["schema"] = 1;
  e["workers"] = p.workers;
  e["local_steps"] = p.local_steps;
  e["batch"] = p.batch;
  if (!request.lr_values.empty())
    e["lr_" + request.lr_key] = p.lr_value ? ordered_json(*p.lr_value) : ordered_json();
  e["steps_to_target"] = number_or_null(p.steps);
  e["rounds"] = number_or_null(p.rounds);
  e["reached"] = std::to_string(p.reached) + "/" + std::to_string(request.repeats);
  e["speedup"] = p.speedup ? ordered_json(*p.speedup) : ordered_json();
  e["time_speedup"] = p.time_speedup ? ordered_json(*p.time_speedup) : ordered_json();
  if (request.theory) {
    e["theory_steps"] = p.theory_steps ? ordered_json(*p.theory_steps) : ordered_json();
    e["theory_speedup"] = p.theory_speedup ? ordered_json(*p.theory_speedup) : ordered_json();
  }
  return e;
}

void plot_sweep(const SweepResult& result, const std::filesystem::path& path) {
  // One curve per (H, b): "K speedup" lines as gnuplot inline data.
  std::map<std::pair<std::int64_t, std::int64_t>, std::vector<const SweepPoint*>> curves;
  std::set<std::int64_t> batches;
  for (const SweepPoint& p : result.points) {
    batches.insert(p.batch);
    if (p.speedup) curves[{p.local_steps, p.batch}].push_back(&p);
  }
  if (curves.empty())
    throw RuntimeFailure(
        "nothing to plot: no grid point has a speedup (is K = 1 in the grid, "
        "and was the target reached?)");
  std::int64_t max_k = 1;
  for (const SweepPoint& p : result.points) max_k = std::max(max_k, p.workers);

  std::ostringstream commands, data;
  commands << "set title 'Local SGD: speedup to the target over K = 1'\n"
           << "set xlabel 'workers K'\nset ylabel 'speedup (steps)'\n"
           << "set logscale xy 2\nset key top left\nset grid\n"
           << "set xrange [0.9:" << static_cast<double>(max_k) * 1.1 << "]\n"
           << "plot x title 'linear' with lines dashtype 2 lc rgb 'gray'";
  for (const auto& [key, points] : curves) {
    commands << ", '-' using 1:2 with linespoints title 'H = " << key.first
             << (batches.size() > 1 ? ", b = " + std::to_string(key.second) : "") << "'";
    for (const SweepPoint* p : points) data << p->workers << ' ' << *p->speedup << '\n';
    data << "e\n";
  }
  commands << '\n' << data.str();
  draw_with_gnuplot(path, commands.str());
}

}  // namespace localsgd::core
