// Throughput of the Local SGD engine on w8a (logreg, lambda = 1/n), in samples (stochastic
// gradients) per second, next to a bare sparse SGD loop that does only the unavoidable
// work: draw a row, dot product, logistic derivative, sparse update.
//
//   build/bin/bench_engine --benchmark_repetitions=7 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <vector>

#include "bare_loop.hpp"
#include "localsgd/core/engine/engine.hpp"
#include "localsgd/core/engine/rng.hpp"
#include "localsgd/core/plugins/plugins.hpp"
#include "localsgd/core/run/train.hpp"

namespace {

namespace core = localsgd::core;

struct W8a {
  localsgd::Dataset data;
  std::unique_ptr<localsgd::Objective> objective;
};

const W8a& w8a() {
  static W8a* loaded = [] {
    auto* w = new W8a;
    const auto& reader = core::load_plugin("libsvm", localsgd::PluginKind::reader);
    w->data = core::make_reader(reader, {})->read({std::string(LOCALSGD_DATA_DIR) + "/w8a"});
    const auto& logreg = core::load_plugin("logreg", localsgd::PluginKind::objective);
    w->objective = core::make_objective(logreg, {}, w->data.view());
    return w;
  }();
  return *loaded;
}

class Periodic final : public localsgd::Schedule {
 public:
  explicit Periodic(std::int64_t H) : H_(H) {}
  localsgd::SyncEvent next(const localsgd::SyncContext& ctx) override { return {ctx.step + H_, 0}; }
  std::int64_t nominal_period() const override { return H_; }

 private:
  std::int64_t H_;
};

class Fixed final : public core::StepSize {
 public:
  double at(std::int64_t) const override { return 0.5; }
  std::string describe() const override { return "fixed"; }
};

constexpr std::int64_t kSamplesPerRun = 4'000'000;

// Args: K, H, b, threads.
void BM_LocalSgd(benchmark::State& state) {
  const W8a& w = w8a();
  core::EngineConfig config;
  config.workers = state.range(0);
  const std::int64_t H = state.range(1);
  config.batch = state.range(2);
  config.threads = static_cast<int>(state.range(3));
  config.exact_threads = true;  // measure the threads asked for, not the engine's choice
  config.steps = kSamplesPerRun / (config.workers * config.batch);
  config.avg_shift = static_cast<double>(H);
  Fixed rate;
  std::int64_t samples = 0;
  for (auto _ : state) {
    Periodic schedule(H);
    auto result = core::run_local_sgd(*w.objective, w.data.view(), schedule, rate, config);
    benchmark::DoNotOptimize(result.x_hat.data());
    samples += result.grad_evals;
  }
  state.counters["samples_per_s"] =
      benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LocalSgd)
    ->ArgNames({"K", "H", "b", "threads"})
    ->Args({1, 16, 4, 1})
    ->ArgsProduct({{4}, {1, 2, 4, 8, 16, 64, 1000000}, {1, 4}, {1, 2}})
    ->Args({16, 16, 4, 1})
    ->Args({16, 16, 4, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The same runs through `train`, the path the CLI takes (plugins, the constant schedule,
// the step-size rule, the partition, the summary); its gap to BM_LocalSgd is what the
// CLI adds. Args: H, threads (0 = the engine's choice, as the CLI's default).
void BM_Train(benchmark::State& state) {
  static const core::Problem problem([] {
    core::ProblemSpec spec;
    spec.objective.name = "logreg";
    spec.data = std::string(LOCALSGD_DATA_DIR) + "/w8a";
    return spec;
  }());
  core::TrainOptions options;
  options.objective.name = "logreg";
  options.workers = 4;
  options.batch = 4;
  options.local_steps = state.range(0);
  options.lr = core::StepRule::constant;
  options.lr_params.set("eta", "0.5");
  options.steps = kSamplesPerRun / (options.workers * options.batch);
  options.threads = static_cast<int>(state.range(1));
  std::int64_t samples = 0;
  for (auto _ : state) {
    auto outcome = core::train(problem, options);
    benchmark::DoNotOptimize(outcome.result.x_hat.data());
    samples += outcome.result.grad_evals;
  }
  state.counters["samples_per_s"] =
      benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Train)
    ->ArgNames({"H", "threads"})
    ->ArgsProduct({{16, 64}, {1, 2, 0}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// A progress check's full assessment on w8a: f(x̂), f(x̄) and the gradient at x̂. "Fused"
// is what train does (evaluation.hpp); "Separate" is two value passes and then the
// plugin's serial loss_and_gradient, what it did before.
void BM_AssessFused(benchmark::State& state) {
  const W8a& w = w8a();
  const auto d = static_cast<std::size_t>(w.objective->dimension());
  const std::vector<double> x(d, 0.01), y(d, 0.02);
  std::vector<double> gradient(d);
  for (auto _ : state) {
    auto values = core::evaluate_pair_and_gradient(*w.objective, w.data.view(), x, y, gradient);
    benchmark::DoNotOptimize(values);
  }
}
BENCHMARK(BM_AssessFused)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_AssessSeparate(benchmark::State& state) {
  const W8a& w = w8a();
  const auto d = static_cast<std::size_t>(w.objective->dimension());
  const std::vector<double> x(d, 0.01), y(d, 0.02);
  std::vector<double> gradient(d);
  std::vector<std::int64_t> rows(static_cast<std::size_t>(w.data.rows()));
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<std::int64_t>(i);
  for (auto _ : state) {
    benchmark::DoNotOptimize(core::evaluate_objective(*w.objective, w.data.view(), x));
    benchmark::DoNotOptimize(core::evaluate_objective(*w.objective, w.data.view(), y));
    benchmark::DoNotOptimize(w.objective->loss_and_gradient(w.data.view(), rows, x, gradient));
  }
}
BENCHMARK(BM_AssessSeparate)->Unit(benchmark::kMillisecond)->UseRealTime();

// The floor (bare_loop.hpp): plain sparse SGD for logistic loss, no regulariser, no
// averaging. Args: b.
void BM_BareSparseSgdLoop(benchmark::State& state) {
  const W8a& w = w8a();
  const std::int64_t batch = state.range(0);
  std::int64_t samples = 0;
  for (auto _ : state) {
    auto x = localsgd::bench::bare_sgd(w.data.view(), batch, kSamplesPerRun / batch, 0.5);
    benchmark::DoNotOptimize(x.data());
    samples += kSamplesPerRun;
  }
  state.counters["samples_per_s"] =
      benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_BareSparseSgdLoop)
    ->ArgName("b")
    ->Arg(1)
    ->Arg(4)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
