#include "localsgd/core/run/sweep.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <iostream>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>

#include <tbb/parallel_for.h>

#include "localsgd/core/engine/partition.hpp"
#include "localsgd/core/errors.hpp"
#include "localsgd/core/io/plot.hpp"
#include "localsgd/core/plugins/call_plugin.hpp"
#include "localsgd/core/run/interrupt.hpp"
#include "localsgd/core/run/problem.hpp"
#include "localsgd/core/run/train.hpp"
#include "localsgd/core/solve/solve.hpp"
#include "sweep_race.hpp"

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
  bool finished = false;   // not stopped, nor skipped, by a signal
  bool abandoned = false;  // stopped because its setting had lost (SweepRace)
};

// One run's watch over the race of its point's settings (stops the run when its setting
// has lost) and, with Measured::x_bar, over f(x̄): stops at the first evaluation where it
// is within EPS of f* (with x̂, train's own target stop does that).
class RunWatch final : public TrainCallback {
 public:
  RunWatch(SweepRace& race, const Run& run, SweepRequest::Measured measure, double fstar,
           double eps)
      : race_(race), run_(run), measure_(measure), fstar_(fstar), eps_(eps) {}

  // f(x̄) is computed only in a full assessment.
  bool needs_full_assessment() const override { return measure_ == SweepRequest::Measured::x_bar; }

  bool should_stop(const Progress& p) override {
    if (measure_ == SweepRequest::Measured::x_bar && !reached_at_ &&
        p.quality.objective_last - fstar_ <= eps_) {
      reached_at_ = p.step;
      return true;
    }
    if (!behind_ && static_cast<double>(p.step) > race_.bound(run_.point)) note_behind();
    abandoned_ = race_.lost(run_.point, run_.lr);
    return abandoned_;
  }

  void note_behind() {
    behind_ = true;
    race_.behind(run_.point, run_.lr);
  }
  // Also counts the run's final assessment, at its last step, which may fall between two
  // evaluations (as TargetStop does for x̂).
  void on_end(const TrainSummary& summary) override {
    if (measure_ == SweepRequest::Measured::x_bar && !reached_at_ &&
        summary.quality.objective_last - fstar_ <= eps_)
      reached_at_ = summary.steps;
  }

  bool behind() const { return behind_; }
  bool abandoned() const { return abandoned_; }
  // With Measured::x_bar: the step where f(x̄) - f* <= EPS first held; the run ended there.
  std::optional<std::int64_t> reached_at() const { return reached_at_; }

 private:
  SweepRace& race_;
  const Run& run_;
  const SweepRequest::Measured measure_;
  const double fstar_, eps_;
  bool behind_ = false, abandoned_ = false;
  std::optional<std::int64_t> reached_at_;
};

// The signal that interrupts the sweep (0: none, or not running gracefully).
int interrupt_signal() {
  const std::atomic<int>* flag = GracefulInterrupts::flag();
  return flag != nullptr ? flag->load(std::memory_order_relaxed) : 0;
}

void validate(const SweepRequest& r) {
  if (r.workers.empty() || r.local_steps.empty() || r.batches.empty())
    throw UsageError("sweep needs at least one value of --workers, --local-steps and --batch");
  for (auto v : r.workers)
    if (v < 1) throw UsageError("--workers values must be >= 1");
  for (auto v : r.local_steps)
    if (v < 1) throw UsageError("--local-steps values must be >= 1");
  for (auto v : r.batches)
    if (v < 1) throw UsageError("--batch values must be >= 1");
  for (auto v : r.workers)
    if (v > kMaxWorkers)
      throw UsageError("--workers values must be <= " + std::to_string(kMaxWorkers));
  for (auto v : r.batches)
    if (v > kMaxBatch) throw UsageError("--batch values must be <= " + std::to_string(kMaxBatch));
  const auto refuse_twice = [](const char* option, const std::vector<std::int64_t>& values) {
    for (std::size_t i = 0; i < values.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (values[i] == values[j])
          throw UsageError(std::string(option) + " " + std::to_string(values[i]) +
                           " is given twice: each grid value once");
  };
  refuse_twice("--workers", r.workers);
  refuse_twice("--local-steps", r.local_steps);
  refuse_twice("--batch", r.batches);
  if (r.repeats < 1) throw UsageError("--repeats must be >= 1");
  if (r.evals_per_epoch < 1) throw UsageError("--evals-per-epoch must be >= 1");
  if (!(r.rho >= 0)) throw UsageError("--rho must be >= 0");
  if (!(r.max_epochs > 0) || !std::isfinite(r.max_epochs))
    throw UsageError("--max-epochs must be a finite number > 0");
  if (!r.base.targeted()) throw UsageError("sweep needs --target or --target-rel");
  for (std::size_t a = 0; a < r.lr_grid.size(); ++a) {
    if (r.lr_grid[a].key.empty() || r.lr_grid[a].values.empty())
      throw UsageError("--lr-grid needs KEY=v1,v2,...");
    for (std::size_t b = 0; b < a; ++b)
      if (r.lr_grid[b].key == r.lr_grid[a].key)
        throw UsageError("--lr-grid " + r.lr_grid[a].key + " is given twice");
    if (r.base.lr_params.has(r.lr_grid[a].key))
      throw UsageError("--lr-grid " + r.lr_grid[a].key + " and --lr-param " + r.lr_grid[a].key +
                       " both set it: give one");
  }
  if (!r.lr_grid.empty() && r.base.lr == StepRule::automatic)
    throw UsageError(
        "--lr-grid tunes a rule's parameters; --lr auto has none: name the rule, "
        "e.g. --lr invtime --lr-grid c=0.25,1");
  if (r.lr_settings() > 4096)
    throw UsageError("--lr-grid: " + std::to_string(r.lr_settings()) +
                     " step-size settings per point; at most 4096");
  if (const auto error = r.base.validate()) throw UsageError(*error);
}

// EPS in absolute terms: --target, or --target-rel times |f*|.
double target_gap(const SweepRequest& r, double fstar) {
  return r.base.target ? *r.base.target : *r.base.target_rel * std::abs(fstar);
}

// The options of one run of the sweep: the base options at a grid point, to the target,
// within the budget, evaluated evals_per_epoch times per pass.
TrainOptions run_options(const SweepRequest& request, const Problem& problem, std::int64_t K,
                         std::int64_t H, std::int64_t b, std::uint64_t seed, double fstar) {
  TrainOptions o = request.base;
  o.workers = K;
  o.batch = b;
  o.local_steps = H;
  o.seed = seed;
  o.threads = 1;  // parallelism is across runs
  o.steps.reset();
  o.epochs = request.max_epochs;
  o.warn_unmet_target = false;  // the table counts the runs that reached EPS
  o.fstar = fstar;
  o.out.clear();
  o.plot.clear();
  o.eval_every =
      std::max<std::int64_t>(1, problem.data().rows() / (K * b * request.evals_per_epoch));
  return o;
}

// G^2 of Theorem 2.2: the largest mean squared stochastic gradient at the evaluations.
class SecondMoment final : public TrainCallback {
 public:
  SecondMoment(const Problem& problem, double initial) : problem_(problem), g2_(initial) {}
  void on_progress(const Progress& p) override {
    g2_ = std::max(g2_, mean_squared_gradient(problem_.objective(), problem_.data(), p.x_bar));
  }
  double g2() const { return g2_; }

 private:
  const Problem& problem_;
  double g2_;
};

// Theorem 2.2's constants for this objective and data (see SweepRequest::theory).
TheoryConstants estimate_constants(const SweepRequest& request, const Problem& problem,
                                   double fstar) {
  const Objective& objective = problem.objective();
  const Curvature curvature = objective.curvature();
  if (!(curvature.L > 0) || !(curvature.mu > 0) || !curvature.convex)
    throw UsageError("--theory needs an objective that reports L and mu");
  TheoryConstants c;
  c.L = curvature.L;
  c.mu = curvature.mu;
  const SolveResult optimum = solve(objective, problem.data());
  if (!optimum.converged) throw RuntimeFailure("--theory: " + unconverged_message(optimum));
  std::vector<double> x0(optimum.x.size());
  objective.initial_point(request.base.seed, x0);
  for (std::size_t j = 0; j < x0.size(); ++j)
    c.distance2 += (x0[j] - optimum.x[j]) * (x0[j] - optimum.x[j]);
  c.sigma2 = mean_squared_gradient(objective, problem.data(), optimum.x);

  // G^2: the largest mean squared gradient along a plain SGD run (K = 1, H = 1) from x_0,
  // once per pass, until the target or the budget.
  const std::int64_t b = request.batches.front();
  TrainOptions o = run_options(request, problem, 1, 1, b, request.base.seed, fstar);
  o.target = target_gap(request, fstar);
  o.target_rel.reset();
  o.eval_every = std::max<std::int64_t>(1, problem.data().rows() / b);
  SecondMoment second_moment(problem, mean_squared_gradient(objective, problem.data(), x0));
  TrainCallback* const callbacks[] = {&second_moment};
  train(problem, o, callbacks);
  c.G2 = second_moment.g2();
  return c;
}

// The points' results as their runs finish: a point is final when all its runs have ended,
// and is reported in grid order once every point before it, and its K = 1 base (for the
// speedups), is final too. Called under the lock of its owner.
class PointLedger {
 public:
  PointLedger(const SweepRequest& request, std::vector<SweepPoint>& points,
              const std::vector<Run>& runs, double eps, const SweepObserver& observer)
      : request_(request),
        points_(points),
        runs_(runs),
        eps_(eps),
        observer_(observer),
        pending_(points.size(), 0),
        final_(points.size(), false),
        reported_(points.size(), false) {
    for (const Run& run : runs) ++pending_[run.point];
    base_.resize(points.size());
    for (std::size_t p = 0; p < points.size(); ++p) {
      for (std::size_t q = 0; q < points.size(); ++q)
        if (points[q].workers == 1 && points[q].local_steps == points[p].local_steps &&
            points[q].batch == points[p].batch)
          base_[p] = q;
      if (pending_[p] == 0) final_[p] = true;  // resumed: known before any run
    }
  }

  // Theorem 2.2's steps, for points reported from now on.
  void set_theory(const TheoryConstants& c) { theory_ = c; }

  // One run of `point` ended (or was skipped by a signal).
  void run_ended(std::size_t point) {
    const std::lock_guard lock(mutex_);
    if (--pending_[point] == 0) {
      decide(point);
      final_[point] = true;
    }
    report_ready(false);
  }

  // Before any run: the resumed points that can be reported already.
  void start() {
    const std::lock_guard lock(mutex_);
    report_ready(false);
  }

  // After a signal: every final point not yet reported, in grid order (a speedup only
  // where the base is final too). Returns the reported points, in grid order.
  std::vector<SweepPoint> finish(bool interrupted) {
    const std::lock_guard lock(mutex_);
    report_ready(interrupted);
    std::vector<SweepPoint> reported;
    for (std::size_t p = 0; p < points_.size(); ++p)
      if (reported_[p]) reported.push_back(points_[p]);
    return reported;
  }

 private:
  // The winning step-size setting of a point all of whose runs ended: fewest median steps.
  void decide(std::size_t p) {
    SweepPoint& point = points_[p];
    point.steps = kNever;
    for (std::size_t l = 0; l < request_.lr_settings(); ++l) {
      std::vector<double> steps, rounds;
      for (const Run& run : runs_)
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
        point.lr_values = request_.lr_setting(l);
      }
    }
  }

  // Reports, in grid order, the final points whose predecessors are reported and whose
  // base is final (`all`: every final point, whatever comes before it).
  void report_ready(bool all) {
    for (std::size_t p = 0; p < points_.size(); ++p) {
      if (reported_[p]) continue;
      const bool base_known = !base_[p] || final_[*base_[p]];
      if (!final_[p] || (!all && !base_known)) {
        if (all) continue;
        return;
      }
      complete(p);
      reported_[p] = true;
      if (observer_.point) observer_.point(points_[p]);
    }
  }

  // The columns derived from other points: speedups over K = 1 and the theory's steps.
  void complete(std::size_t p) {
    SweepPoint& point = points_[p];
    if (theory_) {
      const std::int64_t T =
          theoretical_steps(*theory_, point.workers, point.local_steps, point.batch, eps_);
      if (T > 0) point.theory_steps = static_cast<double>(T);
    }
    if (!base_[p] || !final_[*base_[p]]) return;
    const SweepPoint& base = points_[*base_[p]];
    if (theory_) {
      const std::int64_t T1 = theoretical_steps(*theory_, 1, point.local_steps, point.batch, eps_);
      if (T1 > 0 && point.theory_steps)
        point.theory_speedup = static_cast<double>(T1) / *point.theory_steps;
    }
    if (!std::isfinite(base.steps) || !std::isfinite(point.steps)) return;
    point.speedup = base.steps / point.steps;
    const double b = static_cast<double>(point.batch);
    point.time_speedup = base.steps * b /
                         (point.steps * b + 2.0 * static_cast<double>(point.workers - 1) *
                                                request_.rho * point.rounds);
  }

  const SweepRequest& request_;
  std::vector<SweepPoint>& points_;
  const std::vector<Run>& runs_;
  const double eps_;
  const SweepObserver& observer_;
  std::mutex mutex_;
  std::vector<std::size_t> pending_;
  std::vector<bool> final_, reported_;
  std::vector<std::optional<std::size_t>> base_;
  std::optional<TheoryConstants> theory_;
};

}  // namespace

SweepResult run_sweep(const SweepRequest& request, const SweepObserver& observer) {
  validate(request);
  // Loaded once: every run trains on the same data with the same objective, whose
  // curvature estimate and f* are computed once too.
  ProblemSpec spec = ProblemSpec::of(request.base);
  spec.schedule = {"constant", {}};
  spec.test.clear();
  const Problem problem(spec);
  // A partition that cannot serve some K (a worker without rows, a bad parameter) is a
  // usage error before any run, not an escape from the middle of the sweep.
  for (const std::int64_t K : request.workers)
    make_partition(to_string(request.base.partition), request.base.partition_params, problem.data(),
                   K, request.base.seed);
  SweepResult result;
  result.fstar = request.base.fstar
                     ? *request.base.fstar
                     : call_plugin(problem.objective_manifest(), "the exact solve for f*",
                                   [&] { return problem.fstar("sweep", std::cerr); });
  const nlohmann::ordered_json identity = sweep_identity(request, problem, result.fstar);
  const std::vector<SweepPoint> resumed =
      request.resume ? request.resume(identity) : std::vector<SweepPoint>();
  if (observer.started) observer.started(identity);

  // The grid, with the points an earlier sweep finished taken as they are.
  std::vector<SweepPoint> points;
  std::vector<bool> known;
  for (auto K : request.workers)
    for (auto H : request.local_steps)
      for (auto b : request.batches) {
        const auto done = std::find_if(resumed.begin(), resumed.end(), [&](const SweepPoint& p) {
          return p.workers == K && p.local_steps == H && p.batch == b;
        });
        known.push_back(done != resumed.end());
        if (known.back()) {
          SweepPoint point = *done;
          point.speedup = point.time_speedup = point.theory_steps = point.theory_speedup = {};
          points.push_back(point);
          ++result.resumed_points;
        } else {
          points.push_back({K, H, b, {}, 0, 0, 0, {}, {}, {}, {}});
        }
      }
  const std::size_t lr_count = request.lr_settings();
  std::vector<Run> runs;
  for (std::size_t p = 0; p < points.size(); ++p)
    if (!known[p])
      for (std::size_t l = 0; l < lr_count; ++l)
        for (std::int64_t rep = 0; rep < request.repeats; ++rep) runs.push_back({p, l, rep});

  const double eps = target_gap(request, result.fstar);
  PointLedger ledger(request, points, runs, eps, observer);
  // Theorem 2.2's constants first, so that every point streams with its theory columns.
  if (request.theory) {
    const TheoryConstants c = estimate_constants(request, problem, result.fstar);
    if (interrupt_signal() == 0) {
      result.theory = c;
      ledger.set_theory(c);
    }
  }
  ledger.start();

  SweepRace race(points.size(), lr_count, request.repeats);
  std::atomic<std::size_t> started{0}, abandoned{0}, ended{0};
  tbb::parallel_for(std::size_t{0}, runs.size(), [&](std::size_t i) {
    Run& run = runs[i];
    const SweepPoint& point = points[run.point];
    TrainOptions o =
        run_options(request, problem, point.workers, point.local_steps, point.batch,
                    request.base.seed + static_cast<std::uint64_t>(run.repeat), result.fstar);
    o.test.clear();
    const std::vector<double> setting = request.lr_setting(run.lr);
    for (std::size_t a = 0; a < setting.size(); ++a)
      o.lr_params.set(request.lr_grid[a].key, format_number(setting[a]));
    const bool measure_x_bar = request.measure == SweepRequest::Measured::x_bar;
    if (measure_x_bar) {  // RunWatch measures x̄ instead
      o.target.reset();
      o.target_rel.reset();
    }
    RunWatch watch(race, run, request.measure, result.fstar, eps);
    TrainCallback* const callbacks[] = {&watch};
    if (interrupt_signal() != 0) return;
    started.fetch_add(1, std::memory_order_relaxed);
    try {
      const TrainOutcome outcome = train(problem, o, callbacks);
      if (outcome.interrupted != 0) return;
      // Either way the run ended where its model first met EPS: its steps and rounds
      // (with the closing average of a run stopped inside a period) are the summary's.
      if (measure_x_bar ? watch.reached_at().has_value() : outcome.summary.target_reached()) {
        run.steps = static_cast<double>(outcome.summary.steps);
        run.rounds = static_cast<double>(outcome.summary.rounds);
      }
    } catch (const RuntimeFailure&) {
      // A step size that diverges simply never reaches the target.
    }
    run.abandoned = watch.abandoned() && std::isinf(run.steps);
    if (run.abandoned) abandoned.fetch_add(1, std::memory_order_relaxed);
    if (std::isinf(run.steps) && !watch.behind()) watch.note_behind();
    race.finished(run.point, run.lr, run.steps);
    run.finished = true;
    const std::size_t done = ended.fetch_add(1, std::memory_order_relaxed) + 1;
    if (observer.progress) observer.progress(done, runs.size());
    ledger.run_ended(run.point);
  });
  result.abandoned_runs = abandoned.load();
  result.runs = started.load();
  result.planned_points = points.size();
  result.interrupted = interrupt_signal();
  // Interrupted: the points whose every run finished, in grid order.
  result.points = ledger.finish(result.interrupted != 0);
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
  for (std::size_t a = 0; a < request.lr_grid.size(); ++a)
    e["lr_" + request.lr_grid[a].key] =
        a < p.lr_values.size() ? ordered_json(p.lr_values[a]) : ordered_json();
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

void plot_sweep(const SweepResult& result, const std::filesystem::path& path,
                SweepPlotSpeedup speedup_kind, double rho) {
  const bool in_time = speedup_kind == SweepPlotSpeedup::time;
  // One curve per (H, b): "K speedup" lines as gnuplot inline data; with --theory, Theorem
  // 2.2's speedup for the same (H, b) dashed in the same colour, so the gap between the
  // bound's constants and practice is visible.
  using Curve = std::vector<std::pair<std::int64_t, double>>;
  std::map<std::pair<std::int64_t, std::int64_t>, Curve> measured, theory;
  std::set<std::int64_t> batches;
  for (const SweepPoint& p : result.points) {
    batches.insert(p.batch);
    const std::optional<double>& speedup = in_time ? p.time_speedup : p.speedup;
    if (speedup) measured[{p.local_steps, p.batch}].emplace_back(p.workers, *speedup);
    if (p.theory_speedup && !in_time)
      theory[{p.local_steps, p.batch}].emplace_back(p.workers, *p.theory_speedup);
  }
  if (measured.empty())
    throw RuntimeFailure(
        "nothing to plot: no grid point has a speedup (is K = 1 in the grid, "
        "and was the target reached?)");
  std::int64_t max_k = 1;
  for (const SweepPoint& p : result.points) max_k = std::max(max_k, p.workers);

  std::ostringstream commands, data;
  std::ostringstream ylabel;
  ylabel << "speedup (" << (in_time ? "modelled time, rho = " : "steps");
  if (in_time) ylabel << rho;
  ylabel << ")";
  commands << "set title 'Local SGD: speedup to the target over K = 1'\n"
           << "set xlabel 'workers K'\nset ylabel " << gnuplot_quoted(ylabel.str()) << "\n"
           << "set logscale xy 2\nset key top left\nset grid\n"
           << "set xrange [0.9:" << static_cast<double>(max_k) * 1.1 << "]\n"
           << "plot x title 'linear' with lines dashtype 2 lc rgb 'gray'";
  auto label = [&](const std::pair<std::int64_t, std::int64_t>& key) {
    return "H = " + std::to_string(key.first) +
           (batches.size() > 1 ? ", b = " + std::to_string(key.second) : "");
  };
  int colour = 0;
  for (const auto& [key, curve] : measured) {
    ++colour;
    commands << ", '-' using 1:2 with linespoints lc " << colour << " title '" << label(key) << "'";
    for (const auto& [K, speedup] : curve) data << K << ' ' << speedup << '\n';
    data << "e\n";
    const auto bound = theory.find(key);
    if (bound == theory.end()) continue;
    commands << ", '-' using 1:2 with lines dashtype 3 lc " << colour << " title '" << label(key)
             << ", Theorem 2.2'";
    for (const auto& [K, speedup] : bound->second) data << K << ' ' << speedup << '\n';
    data << "e\n";
  }
  commands << '\n' << data.str();
  draw_with_gnuplot(path, commands.str());
}

}  // namespace localsgd::core
