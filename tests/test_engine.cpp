// The engine against independent truth: iterates computed by hand on a one-row problem,
// and a plain, dense transcription of Algorithm 1 (README "What a run computes") on a small one,
// for arbitrary sync sets, groups, both update paths and the output weights.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "localsgd/core/engine/engine.hpp"
#include "localsgd/core/engine/rng.hpp"
#include "localsgd/core/plugins/plugins.hpp"
#include "localsgd/core/run/train.hpp"
#include "test_support.hpp"

namespace {

using localsgd::Dataset;
using localsgd::DataView;
using localsgd::ParamMap;
namespace core = localsgd::core;

// Dense rows with labels +-1, deterministic.
Dataset small_dataset(std::int64_t n, std::int64_t d) {
  Dataset data;
  data.cols = d;
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < d; ++j) {
      if ((i + j) % 3 == 0) continue;  // some sparsity, some empty columns per row
      data.index.push_back(static_cast<std::int32_t>(j));
      data.value.push_back(std::sin(1.0 + static_cast<double>(i * d + j)));
    }
    data.row_ptr.push_back(static_cast<std::int64_t>(data.index.size()));
    data.label.push_back(i % 2 == 0 ? 1.0 : -1.0);
  }
  return data;
}

std::unique_ptr<localsgd::Objective> logreg(const DataView& data, double lambda) {
  ParamMap params;
  params.set("lambda", std::to_string(lambda));
  const auto& manifest = core::load_plugin("logreg", localsgd::PluginKind::objective);
  return core::make_objective(manifest, params, data);
}

// Hides the margin fast path, so the engine takes its dense path on the same objective.
class DenseOnly final : public localsgd::Objective {
 public:
  explicit DenseOnly(const localsgd::Objective& inner) : inner_(inner) {}
  std::int64_t dimension() const override { return inner_.dimension(); }
  localsgd::Curvature curvature() const override { return inner_.curvature(); }
  double loss_and_gradient(const DataView& data, std::span<const std::int64_t> rows,
                           std::span<const double> x, std::span<double> g) const override {
    return inner_.loss_and_gradient(data, rows, x, g);
  }
  double value(const DataView& data, std::span<const double> x) const override {
    return inner_.value(data, x);
  }
  Prediction prediction_kind() const override { return Prediction::value; }
  double predict(const localsgd::SparseRow& row, std::span<const double> x) const override {
    return inner_.predict(row, x);
  }

 private:
  const localsgd::Objective& inner_;
};

// Syncs after the listed steps, in groups of `group` workers (0 = all).
class ListSchedule final : public localsgd::Schedule {
 public:
  ListSchedule(std::set<std::int64_t> steps, std::int64_t group)
      : steps_(std::move(steps)), group_(group) {}
  localsgd::SyncEvent next(const localsgd::SyncContext& ctx) override {
    auto it = steps_.upper_bound(ctx.step);
    return {it == steps_.end() ? ctx.step + 1'000'000 : *it, group_};
  }
  std::int64_t nominal_period() const override { return 1; }
  localsgd::ScheduleNeeds needs() const override { return {.group_syncs = group_ > 0}; }

 private:
  std::set<std::int64_t> steps_;
  std::int64_t group_;
};

class ConstantRate final : public core::StepSize {
 public:
  explicit ConstantRate(double eta) : eta_(eta) {}
  double at(std::int64_t) const override { return eta_; }
  std::string describe() const override { return "test"; }

 private:
  double eta_;
};

class DecayingRate final : public core::StepSize {
 public:
  double at(std::int64_t t) const override { return 0.8 / (1.0 + 0.3 * static_cast<double>(t)); }
  std::string describe() const override { return "test"; }
};

struct Reference {
  std::vector<double> x_hat, x_last;
  std::int64_t rounds = 0;
};

// Algorithm 1, transcribed as plainly as possible: dense vectors, every worker's
// gradient from the objective's generic batch method, averages after the step.
Reference reference_local_sgd(const localsgd::Objective& objective, const DataView& data,
                              const std::set<std::int64_t>& sync_steps, std::int64_t group,
                              std::int64_t T, std::int64_t K, std::int64_t b, std::uint64_t seed,
                              const core::StepSize& eta, double a,
                              const std::vector<std::vector<std::int64_t>>& parts = {}) {
  const auto d = static_cast<std::size_t>(objective.dimension());
  std::vector<std::vector<double>> x(static_cast<std::size_t>(K), std::vector<double>(d, 0.0));
  std::vector<double> hat(d, 0.0), g(d);
  std::vector<std::int64_t> rows(static_cast<std::size_t>(b));
  double S = 0;
  Reference ref;
  for (std::int64_t t = 0; t < T; ++t) {
    const double w = (a + static_cast<double>(t)) * (a + static_cast<double>(t));
    S += w;
    for (const auto& xk : x)
      for (std::size_t j = 0; j < d; ++j) hat[j] += w * xk[j];
    for (std::int64_t k = 0; k < K; ++k) {
      const auto* part = parts.empty() ? nullptr : &parts[static_cast<std::size_t>(k)];
      core::WorkerRng(seed, static_cast<std::uint64_t>(k))
          .draw_indices(t, part ? part->size() : static_cast<std::uint64_t>(data.rows()), rows);
      if (part)
        for (auto& i : rows) i = (*part)[static_cast<std::size_t>(i)];
      auto& xk = x[static_cast<std::size_t>(k)];
      objective.loss_and_gradient(data, rows, xk, g);
      for (std::size_t j = 0; j < d; ++j) xk[j] -= eta.at(t) * g[j];
    }
    const bool final_step = t + 1 == T;
    if (sync_steps.count(t + 1) || final_step) {
      ++ref.rounds;
      const std::int64_t gsize = (group == 0 || final_step) ? K : group;
      for (std::int64_t first = 0; first < K; first += gsize) {
        const std::int64_t last = std::min(K, first + gsize);
        std::vector<double> mean(d, 0.0);
        for (std::int64_t k = first; k < last; ++k)
          for (std::size_t j = 0; j < d; ++j) mean[j] += x[static_cast<std::size_t>(k)][j];
        for (double& m : mean) m /= static_cast<double>(last - first);
        for (std::int64_t k = first; k < last; ++k) x[static_cast<std::size_t>(k)] = mean;
      }
    }
  }
  for (double& h : hat) h /= static_cast<double>(K) * S;
  ref.x_hat = hat;
  ref.x_last = x[0];
  return ref;
}

void expect_close(const std::vector<double>& actual, const std::vector<double>& expected,
                  double tolerance) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t j = 0; j < actual.size(); ++j)
    EXPECT_NEAR(actual[j], expected[j], tolerance * std::max(1.0, std::abs(expected[j])))
        << "coordinate " << j;
}

TEST(Engine, OneWorkerOneStepIsPlainSgdComputedByHand) {
  // One row, so every draw is row 0 whatever the random stream: the iterates follow
  // x_{t+1} = x_t - eta (-y sigma(-y a.x_t) a + lambda x_t) exactly.
  Dataset data;
  data.cols = 2;
  data.index = {0, 1};
  data.value = {1.0, 2.0};
  data.row_ptr = {0, 2};
  data.label = {1.0};
  const DataView view = data.view();
  const double lambda = 0.5, eta = 0.1, a = 2.0;
  auto objective = logreg(view, lambda);

  std::vector<std::vector<double>> xs{{0.0, 0.0}};
  for (int t = 0; t < 3; ++t) {
    const auto& x = xs.back();
    const double z = x[0] * 1.0 + x[1] * 2.0;
    const double sigma = 1.0 / (1.0 + std::exp(z));  // sigma(-y z), y = 1
    xs.push_back(
        {x[0] - eta * (-sigma * 1.0 + lambda * x[0]), x[1] - eta * (-sigma * 2.0 + lambda * x[1])});
  }
  // x̂_3 weights x_0, x_1, x_2 by (a+t)^2 = 4, 9, 16; x_3 is left out.
  std::vector<double> hat(2);
  for (int j = 0; j < 2; ++j) hat[j] = (4 * xs[0][j] + 9 * xs[1][j] + 16 * xs[2][j]) / 29.0;

  ListSchedule every_step({1, 2, 3}, 0);
  ConstantRate rate(eta);
  core::EngineConfig config;
  config.workers = 1;
  config.batch = 1;
  config.steps = 3;
  config.avg_shift = a;
  const auto result = core::run_local_sgd(*objective, view, every_step, rate, config);
  expect_close(result.x_last, xs[3], 1e-14);
  expect_close(result.x_hat, hat, 1e-14);
  EXPECT_EQ(result.rounds, 3);
  EXPECT_EQ(result.grad_evals, 3);
}

struct EngineCase {
  const char* name;
  std::set<std::int64_t> sync;
  std::int64_t group;
  std::int64_t T, K, b;
  bool dense;
};

// Keeps ctest's test names readable (the default prints the struct's bytes).
void PrintTo(const EngineCase& c, std::ostream* os) {
  *os << c.name;
}

class EngineMatchesReference : public ::testing::TestWithParam<EngineCase> {};

TEST_P(EngineMatchesReference, IteratesAndOutputsAgree) {
  const EngineCase& c = GetParam();
  const Dataset data = small_dataset(23, 7);
  const DataView view = data.view();
  auto objective = logreg(view, 0.05);
  DenseOnly dense(*objective);
  const localsgd::Objective& used =
      c.dense ? static_cast<const localsgd::Objective&>(dense) : *objective;
  ASSERT_EQ(used.as_margin() == nullptr, c.dense);
  DecayingRate rate;
  const double a = 3.0;
  const std::uint64_t seed = 42;

  ListSchedule schedule(c.sync, c.group);
  core::EngineConfig config;
  config.workers = c.K;
  config.batch = c.b;
  config.steps = c.T;
  config.seed = seed;
  config.avg_shift = a;
  const auto result = core::run_local_sgd(used, view, schedule, rate, config);
  const Reference ref =
      reference_local_sgd(*objective, view, c.sync, c.group, c.T, c.K, c.b, seed, rate, a);

  expect_close(result.x_last, ref.x_last, 1e-12);
  expect_close(result.x_hat, ref.x_hat, 1e-12);
  EXPECT_EQ(result.rounds, ref.rounds);
  EXPECT_EQ(result.grad_evals, c.T * c.K * c.b);
  // The runs must actually move: a zero model would agree trivially.
  double norm = 0;
  for (double v : result.x_last) norm += v * v;
  EXPECT_GT(norm, 1e-3);
}

INSTANTIATE_TEST_SUITE_P(
    SyncSets, EngineMatchesReference,
    ::testing::Values(EngineCase{"periodic_sparse", {4, 8, 12, 16}, 0, 18, 3, 2, false},
                      EngineCase{"periodic_dense", {4, 8, 12, 16}, 0, 18, 3, 2, true},
                      EngineCase{"irregular_sparse", {1, 2, 7, 15}, 0, 20, 4, 3, false},
                      EngineCase{"irregular_dense", {1, 2, 7, 15}, 0, 20, 4, 3, true},
                      EngineCase{"one_shot_sparse", {}, 0, 25, 5, 1, false},
                      EngineCase{
                          "every_step_sparse", {1, 2, 3, 4, 5, 6, 7, 8, 9}, 0, 10, 2, 4, false},
                      EngineCase{"groups_of_two_sparse", {3, 6, 9}, 2, 12, 5, 2, false},
                      EngineCase{"groups_of_two_dense", {3, 6, 9}, 2, 12, 5, 2, true}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Engine, LazyScalingSurvivesRenormalisation) {
  // A large eta*lambda shrinks the scale s below its renormalisation threshold many
  // times; the result must still match the reference.
  const Dataset data = small_dataset(11, 5);
  auto objective = logreg(data.view(), 2.0);
  ConstantRate rate(0.45);  // decay 0.1 per step: renormalised every few steps
  ListSchedule schedule({10, 20, 30}, 0);
  core::EngineConfig config;
  config.workers = 2;
  config.batch = 2;
  config.steps = 40;
  config.avg_shift = 1.0;
  const auto result = core::run_local_sgd(*objective, data.view(), schedule, rate, config);
  const Reference ref = reference_local_sgd(*objective, data.view(), {10, 20, 30}, 0, 40, 2, 2,
                                            config.seed, rate, 1.0);
  expect_close(result.x_last, ref.x_last, 1e-12);
  expect_close(result.x_hat, ref.x_hat, 1e-12);
}

TEST(Engine, RefusesStepSizeBeyondLazyDecayLimit) {
  const Dataset data = small_dataset(5, 3);
  auto objective = logreg(data.view(), 1.0);
  ConstantRate rate(1.5);  // eta * lambda >= 1
  ListSchedule schedule({}, 0);
  core::EngineConfig config;
  config.steps = 3;
  EXPECT_THROW(core::run_local_sgd(*objective, data.view(), schedule, rate, config),
               localsgd::RuntimeFailure);
}

TEST(Engine, ReportsDivergenceInsteadOfReturningNaN) {
  const Dataset data = small_dataset(9, 4);
  auto objective = logreg(data.view(), 0.0);
  ConstantRate rate(1e308);
  ListSchedule schedule({2}, 0);
  core::EngineConfig config;
  config.steps = 4;
  EXPECT_THROW(core::run_local_sgd(*objective, data.view(), schedule, rate, config),
               localsgd::RuntimeFailure);
}

TEST(Engine, ScheduleThatDoesNotAdvanceIsAPluginError) {
  class Stuck final : public localsgd::Schedule {
   public:
    localsgd::SyncEvent next(const localsgd::SyncContext& ctx) override { return {ctx.step, 0}; }
    std::int64_t nominal_period() const override { return 1; }
  } stuck;
  const Dataset data = small_dataset(5, 3);
  auto objective = logreg(data.view(), 0.1);
  ConstantRate rate(0.1);
  core::EngineConfig config;
  config.steps = 3;
  EXPECT_THROW(core::run_local_sgd(*objective, data.view(), stuck, rate, config),
               localsgd::PluginError);
}

// A schedule must declare the capabilities it uses, so that runners that lack them can
// refuse it before the run; using an undeclared one is the plugin's error.
TEST(Engine, UndeclaredGroupSyncIsAPluginError) {
  class Sneaky final : public localsgd::Schedule {
   public:
    localsgd::SyncEvent next(const localsgd::SyncContext& ctx) override {
      return {ctx.step + 1, 2};
    }
    std::int64_t nominal_period() const override { return 1; }
  } sneaky;
  const Dataset data = small_dataset(5, 3);
  auto objective = logreg(data.view(), 0.1);
  ConstantRate rate(0.1);
  core::EngineConfig config;
  config.workers = 4;
  config.steps = 3;
  config.schedule_name = "sneaky";
  try {
    core::run_local_sgd(*objective, data.view(), sneaky, rate, config);
    ADD_FAILURE() << "no PluginError";
  } catch (const localsgd::PluginError& e) {
    EXPECT_STREQ(e.what(),
                 "schedule 'sneaky' returned a group sync but does not declare group_syncs in "
                 "needs()");
  }
}

TEST(Engine, ObjectiveValueIsTheMeanLossPlusRegulariser) {
  const Dataset data = small_dataset(13, 4);
  auto objective = logreg(data.view(), 0.3);
  const std::vector<double> x{0.5, -1.0, 0.25, 2.0};
  double expected = 0;
  for (std::int64_t i = 0; i < data.rows(); ++i) {
    const double z = data.view().row(i).dot(x.data());
    expected += std::log1p(std::exp(-data.label[static_cast<std::size_t>(i)] * z));
  }
  expected = expected / 13.0 + 0.15 * (0.25 + 1.0 + 0.0625 + 4.0);
  EXPECT_NEAR(core::evaluate_objective(*objective, data.view(), x), expected, 1e-14);
}

}  // namespace

namespace {

// Logistic loss with an unregularised intercept, written here independently of the plugin.
class LogisticWithIntercept final : public localsgd::MarginObjective {
 public:
  LogisticWithIntercept(std::int64_t cols, double lambda) : cols_(cols), lambda_(lambda) {}
  std::int64_t dimension() const override { return cols_ + 1; }
  localsgd::Curvature curvature() const override { return {}; }
  double lambda() const override { return lambda_; }
  bool has_intercept() const override { return true; }
  double margin_loss(double z, double y) const override { return std::log1p(std::exp(-y * z)); }
  void margin_derivatives(std::span<const double> z, std::span<const double> y,
                          std::span<double> d) const override {
    for (std::size_t i = 0; i < z.size(); ++i) d[i] = -y[i] / (1.0 + std::exp(y[i] * z[i]));
  }
  Prediction prediction_kind() const override { return Prediction::value; }
  double predict(const localsgd::SparseRow&, std::span<const double>) const override { return 0; }

 private:
  std::int64_t cols_;
  double lambda_;
};

TEST(Engine, InterceptIsUnregularisedAndMatchesTheReference) {
  const Dataset data = small_dataset(19, 6);
  const LogisticWithIntercept objective(6, 0.2);
  // The SDK's generic gradient (used by the reference) includes the intercept.
  std::vector<std::int64_t> rows{0, 3, 3, 11, 18};
  std::vector<double> x{0.1, -0.2, 0.3, 0.0, 0.5, -0.4, 0.7};
  EXPECT_LT(localsgd::gradient_check(objective, data.view(), rows, x), 1e-7);

  DenseOnly dense(objective);
  DecayingRate rate;
  for (const localsgd::Objective* used : {static_cast<const localsgd::Objective*>(&objective),
                                          static_cast<const localsgd::Objective*>(&dense)}) {
    ListSchedule schedule({2, 5, 9}, 0);
    core::EngineConfig config;
    config.workers = 3;
    config.batch = 2;
    config.steps = 12;
    config.seed = 5;
    config.avg_shift = 2.0;
    const auto result = core::run_local_sgd(*used, data.view(), schedule, rate, config);
    const Reference ref =
        reference_local_sgd(objective, data.view(), {2, 5, 9}, 0, 12, 3, 2, 5, rate, 2.0);
    expect_close(result.x_last, ref.x_last, 1e-12);
    expect_close(result.x_hat, ref.x_hat, 1e-12);
    EXPECT_GT(std::abs(result.x_last.back()), 1e-3);  // the intercept moved
  }
  // f includes no penalty on the intercept.
  std::vector<double> only_bias(7, 0.0);
  only_bias.back() = 3.0;
  double expected = 0;
  for (double y : data.label) expected += std::log1p(std::exp(-y * 3.0));
  EXPECT_NEAR(core::evaluate_objective(objective, data.view(), only_bias), expected / 19, 1e-14);
}

}  // namespace

namespace {

TEST(Engine, WorkersSampleOnlyFromTheirPartOfThePartition) {
  const Dataset data = small_dataset(23, 7);
  auto objective = logreg(data.view(), 0.05);
  const std::vector<std::vector<std::int64_t>> parts{
      {0, 1, 2, 3, 4}, {5, 9, 22}, {10, 11, 12, 13, 14, 15, 16}};
  DecayingRate rate;
  ListSchedule schedule({3, 6}, 0);
  core::EngineConfig config;
  config.workers = 3;
  config.batch = 2;
  config.steps = 9;
  config.seed = 4;
  config.avg_shift = 1.0;
  config.partition = parts;
  const auto result = core::run_local_sgd(*objective, data.view(), schedule, rate, config);
  const Reference ref =
      reference_local_sgd(*objective, data.view(), {3, 6}, 0, 9, 3, 2, 4, rate, 1.0, parts);
  expect_close(result.x_last, ref.x_last, 1e-12);
  expect_close(result.x_hat, ref.x_hat, 1e-12);
  const Reference shared =
      reference_local_sgd(*objective, data.view(), {3, 6}, 0, 9, 3, 2, 4, rate, 1.0);
  EXPECT_GT(std::abs(shared.x_last[0] - ref.x_last[0]), 1e-6);  // the partition mattered
}

}  // namespace

// Many very short rounds on two threads, where a thread that lags a whole round behind
// (descheduled between looking at a worker's claim and taking it) must not make a phase
// run twice or leave a round unfinished: the runs finish, and equal the one-thread run
// bit for bit. A watchdog turns a hang into a failure instead of a ctest timeout.
TEST(Engine, ShortRoundsOnTwoThreadsNeitherHangNorChangeResults) {
  const Dataset data = small_dataset(64, 8);
  auto objective = logreg(data.view(), 0.05);
  ConstantRate rate(0.1);
  core::EngineConfig config;
  config.workers = 5;
  config.batch = 1;
  config.steps = 100'000;
  config.threads = 1;
  class EveryStep final : public localsgd::Schedule {
   public:
    localsgd::SyncEvent next(const localsgd::SyncContext& ctx) override {
      return {ctx.step + 1, 0};
    }
    std::int64_t nominal_period() const override { return 1; }
  };
  EveryStep one;
  const auto reference = core::run_local_sgd(*objective, data.view(), one, rate, config);
  std::atomic<bool> done{false};
  std::thread watchdog([&] {
    for (int i = 0; i < 1200 && !done.load(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!done.load()) {
      std::fprintf(stderr, "engine hung with two threads\n");
      std::abort();
    }
  });
  config.threads = 2;
  config.exact_threads = true;
  for (int run = 0; run < 20; ++run) {
    EveryStep schedule;
    const auto r = core::run_local_sgd(*objective, data.view(), schedule, rate, config);
    EXPECT_TRUE(localsgd::testing::bitwise_equal(r.x_hat, reference.x_hat)) << "run " << run;
    EXPECT_EQ(r.rounds, reference.rounds);
  }
  done = true;
  watchdog.join();
}

// A large sparse problem (d = 50,000, ~20 stored entries per row) averaged every 5 steps
// by K = 4 workers: with `sparse`, by the constant schedule (sparse syncs); otherwise by a
// hierarchical schedule with one group of all four, the same syncs by the dense average
// (a schedule that declares group syncs never gets sparse ones).
namespace {

core::TrainOptions large_sparse_run(bool sparse) {
  core::TrainOptions o;
  o.objective.name = "logreg";
  o.reader.params.set("n", "3000");
  o.reader.params.set("d", "50000");
  o.reader.params.set("density", "0.0004");
  o.workers = 4;
  o.batch = 2;
  o.threads = 1;
  o.lr_params.set("eta0", "0.5");
  if (sparse) {
    o.schedule.params.set("H", "5");
  } else {
    o.schedule.name = "hierarchical";
    o.schedule.params.set("group", "4");
    o.schedule.params.set("H1", "5");
    o.schedule.params.set("H2", "5");
  }
  return o;
}

}  // namespace

// Sparse syncs on a large model (d >= 4096, few coordinates touched per round) give the
// dense average's result up to rounding, and the same bits for any thread count.
TEST(Engine, SparseSyncsAgreeWithDenseAveraging) {
  auto options = [](bool sparse, int threads) {
    core::TrainOptions o = large_sparse_run(sparse);
    o.steps = 3000;
    o.threads = threads;
    return o;
  };
  const auto sparse = core::train(options(true, 1));
  const auto dense = core::train(options(false, 1));
  ASSERT_EQ(sparse.result.rounds, dense.result.rounds);
  double worst = 0;
  for (std::size_t j = 0; j < sparse.result.x_hat.size(); ++j)
    worst = std::max(worst, std::abs(sparse.result.x_hat[j] - dense.result.x_hat[j]) /
                                std::max(1e-3, std::abs(dense.result.x_hat[j])));
  EXPECT_LT(worst, 1e-9);
  EXPECT_FALSE(localsgd::testing::bitwise_equal(sparse.result.x_last, dense.result.x_last) &&
               localsgd::testing::bitwise_equal(sparse.result.x_hat, dense.result.x_hat))
      << "the sparse path was not taken";
  const auto two = core::train(options(true, 2));
  EXPECT_TRUE(localsgd::testing::bitwise_equal(sparse.result.x_hat, two.result.x_hat));
  EXPECT_TRUE(localsgd::testing::bitwise_equal(sparse.result.x_last, two.result.x_last));
}

// A run stopped by its target right after a sparse sync still returns the agreed model
// as x̄ (the dense path's, to rounding).
TEST(Engine, SparseSyncsThenATargetStopReturnTheAgreedModel) {
  auto options = [](bool sparse) {
    core::TrainOptions o = large_sparse_run(sparse);
    o.steps = 20000;
    o.fstar = 0.5;  // reached early: f starts at log 2
    o.target = 0.15;
    o.eval_every = 10;
    return o;
  };
  const auto sparse = core::train(options(true));
  const auto dense = core::train(options(false));
  ASSERT_TRUE(sparse.summary.target_reached());
  ASSERT_LT(sparse.summary.steps, 20000);
  ASSERT_EQ(sparse.summary.steps, dense.summary.steps);
  double worst = 0;
  for (std::size_t j = 0; j < sparse.result.x_last.size(); ++j)
    worst = std::max(worst, std::abs(sparse.result.x_last[j] - dense.result.x_last[j]) /
                                std::max(1e-3, std::abs(dense.result.x_last[j])));
  EXPECT_LT(worst, 1e-9);
  EXPECT_NEAR(sparse.summary.quality.objective_last, dense.summary.quality.objective_last, 1e-12);
}

// A monitor that stops the run right after a group sync still gets the run's final
// average of all workers: x̄ is their mean, not an older agreed model.
TEST(Engine, StopAfterAGroupSyncEndsWithAnAverageOfAll) {
  const Dataset data = small_dataset(23, 7);
  auto objective = logreg(data.view(), 0.1);
  ConstantRate rate(0.3);
  core::EngineConfig config;
  config.workers = 4;
  config.steps = 50;
  class StopAt final : public core::Monitor {
   public:
    std::int64_t next_evaluation(std::int64_t step) const override { return step + 4; }
    bool evaluate(const core::Snapshot& s) override {
      x_bar.assign(s.x_bar.begin(), s.x_bar.end());
      return true;
    }
    std::vector<double> x_bar;
  } stop;
  ListSchedule groups({4, 8, 12}, 2);  // groups of two at step 4: the stop comes then
  const auto r = core::run_local_sgd(*objective, data.view(), groups, rate, config, &stop);
  EXPECT_EQ(r.steps, 4);
  EXPECT_EQ(r.rounds, 2);  // the group sync and the final average
  ASSERT_EQ(r.x_last.size(), stop.x_bar.size());
  for (std::size_t j = 0; j < r.x_last.size(); ++j)
    EXPECT_NEAR(r.x_last[j], stop.x_bar[j], 1e-15 + 1e-13 * std::abs(stop.x_bar[j]));
  bool moved = false;  // and it is not x_0 = 0
  for (double v : r.x_last) moved = moved || v != 0.0;
  EXPECT_TRUE(moved);
}

// F at the average is the workers' current model whether syncs were sparse or dense:
// the same data with an extra empty column that makes d large enough for sparse syncs
// gives adacomm the same phases.
TEST(Engine, AdaCommSeesTheSameFWithSparseSyncs) {
  localsgd::testing::TempDir dir;
  std::string small, large;
  for (int i = 0; i < 600; ++i) {
    std::string row = (i % 3 == 0 ? "+1" : "-1");
    for (int j = 1; j <= 20; ++j)
      if ((i * 7 + j * 13) % 5 == 0)
        row += " " + std::to_string(j) + ":" + std::to_string(0.1 * ((i + j) % 7));
    small += row + "\n";
    large += row + (i == 0 ? " 5000:0\n" : "\n");  // an explicit zero: only d changes
  }
  auto run = [&](const std::string& text, const char* name) {
    core::TrainOptions o;
    o.objective.name = "logreg";
    o.objective.params.set("lambda", "0.01");
    o.data = dir.write(name, text).string();
    o.schedule.name = "adacomm";
    o.schedule.params.set("H0", "4");
    o.workers = 3;
    o.batch = 2;
    o.steps = 2000;
    o.lr_params.set("eta0", "0.5");
    return core::train(o);
  };
  const auto a = run(small, "small.svm");
  const auto b = run(large, "large.svm");
  ASSERT_EQ(b.summary.dimension, 5000);  // >= 4096: sparse syncs
  EXPECT_EQ(a.summary.rounds, b.summary.rounds);
  EXPECT_NEAR(a.summary.quality.objective, b.summary.quality.objective, 1e-10);
}
