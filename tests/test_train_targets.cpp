// Targets mean targets, and runaway runs stop: a targeted run's budget (--max-epochs), the
// warning or failure (--require-target) when it is not met, and the divergence guard.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "localsgd/core/errors.hpp"
#include "localsgd/core/run/train.hpp"
#include "test_support.hpp"

namespace {

namespace core = localsgd::core;
namespace fs = std::filesystem;
using localsgd::testing::last_line;
using localsgd::testing::run_cli;
using localsgd::testing::TempDir;

// The synthetic default data with a known f* (solved by train and cached per test run).
std::vector<std::string> synthetic_logreg() {
  return {"train", "--plugin", "logreg", "--reader-param", "n=2000", "--reader-param",
          "d=40",  "--format", "json"};
}

TEST(TrainTargets, ATargetedRunGoesOnToItsBudgetNotTheDefaultTenPasses) {
  core::TrainOptions o;
  o.objective.name = "logreg";
  o.target_rel = 1e-2;
  // 10^7 gradients at K = 4, b = 4 (more than 100 passes of 1,000 rows)
  EXPECT_EQ(core::resolve_steps(o, 1000), 10'000'000 / 16);
  EXPECT_EQ(core::resolve_steps(o, 1'000'000), 100 * 1'000'000 / 16);  // 100 passes
  o.max_epochs = 3;
  EXPECT_EQ(core::resolve_steps(o, 1000), 188);  // ceil(3 * 1000 / 16): exactly as given
  o.target_rel.reset();
  o.max_epochs.reset();
  // No target: 3 x 10^6 gradients on small data, 10 passes on large.
  EXPECT_EQ(core::resolve_steps(o, 1000), 3'000'000 / 16);
  EXPECT_EQ(core::resolve_steps(o, 1'000'000), 10 * 1'000'000 / 16);
  o.epochs = 2;
  EXPECT_EQ(core::resolve_steps(o, 1000), 125);  // exactly as given
}

TEST(TrainTargets, OptionsThatOnlyMakeSenseWithATargetAreRefused) {
  core::TrainOptions o;
  o.objective.name = "logreg";
  o.max_epochs = 5;
  EXPECT_EQ(o.validate(), "--max-epochs is the budget of a target: give --target or --target-rel");
  o.target = 1e-3;
  o.epochs = 2;
  EXPECT_EQ(o.validate(), "give --max-epochs or --steps/--epochs, not both");
  o.epochs.reset();
  o.max_epochs = 0;
  EXPECT_EQ(o.validate(), "--max-epochs must be > 0");
  o.max_epochs.reset();
  o.target.reset();
  o.require_target = true;
  EXPECT_EQ(o.validate(), "--require-target needs --target or --target-rel");
}

TEST(TrainTargets, AnUnmetTargetWarnsAndReportsIt) {
  auto args = synthetic_logreg();
  for (const char* a : {"--target-rel", "1e-9", "--max-epochs", "2"}) args.push_back(a);
  const auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("localsgd: warning: target relative suboptimality 1e-09 not reached in 2 "
                       "passes ("),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("give it more with --max-epochs or tune the step size"), std::string::npos);
  const auto s = nlohmann::json::parse(last_line(r.out));
  EXPECT_FALSE(s["target_reached"].get<bool>());
  EXPECT_NEAR(s["epochs"].get<double>(), 2.0, 0.01);
}

TEST(TrainTargets, RequireTargetFailsWithoutWritingTheModel) {
  TempDir dir;
  const fs::path model = dir.path() / "m.model";
  auto args = synthetic_logreg();
  for (const char* a : {"--target-rel", "1e-9", "--epochs", "1", "--require-target", "--out"})
    args.push_back(a);
  args.push_back(model.string());
  const auto r = run_cli(args);
  EXPECT_EQ(r.exit_code, localsgd::kExitRuntime);
  EXPECT_NE(r.err.find("localsgd: error: target relative suboptimality 1e-09 not reached in 1 "
                       "passes"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("give it more with --epochs"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(--require-target; no model written)"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(model));
}

TEST(TrainTargets, AReachedTargetNeedsNoWarning) {
  auto args = synthetic_logreg();
  for (const char* a : {"--target-rel", "0.5", "--require-target"}) args.push_back(a);
  const auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  EXPECT_TRUE(nlohmann::json::parse(last_line(r.out))["target_reached"].get<bool>());
}

TEST(TrainTargets, ADivergingRunStopsWithAStepSizeToTryAndNoModel) {
  TempDir dir;
  const fs::path model = dir.path() / "m.model";
  // mlp starts near f = 0.65 on these data; a constant step of 50 sends it to the hundreds.
  const auto r =
      run_cli({"train", "--plugin", "mlp", "--reader-param", "n=2000", "--reader-param", "d=40",
               "--lr", "constant", "--lr-param", "eta=50", "--out", model.string()});
  EXPECT_EQ(r.exit_code, localsgd::kExitRuntime);
  EXPECT_NE(r.err.find("localsgd: error: diverging at step "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("times f(x_0) = "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("with step size 50 (constant(eta=50)); try --lr-param eta=5 (no model "
                       "written)"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(model));
}

TEST(TrainTargets, TheGuardLeavesAGoodRunAlone) {
  // A sound constant step on the same model and data: no divergence, the model written.
  TempDir dir;
  const fs::path model = dir.path() / "m.model";
  const auto r = run_cli({"train", "--plugin", "mlp", "--reader-param", "n=2000", "--reader-param",
                          "d=40", "--lr", "constant", "--lr-param", "eta=0.5", "--eval-every", "50",
                          "--out", model.string(), "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(model));
}

}  // namespace

namespace {

// Every refusal for a missing curvature constant names options that then work.
TEST(StepSizeRefusals, NameOptionsThatWork) {
  const std::vector<std::string> base = {"train", "--plugin", "mlp", "--reader-param",
                                         "n=500", "--epochs", "1",   "-q"};
  const auto run = [&](std::vector<std::string> extra) {
    auto args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args);
  };
  // The default rule needs no constant: it probes (and an MLP trains by default).
  EXPECT_EQ(run({}).exit_code, 0);
  const auto invtime = run({"--lr", "invtime"});
  EXPECT_EQ(invtime.exit_code, localsgd::kExitUsage);
  EXPECT_NE(invtime.err.find("use --lr constant --lr-param eta=ETA or --lr sqrt --lr-param "
                             "eta0=ETA"),
            std::string::npos)
      << invtime.err;
  const auto constant = run({"--lr", "constant"});
  EXPECT_NE(constant.err.find("give it: --lr-param eta=ETA"), std::string::npos) << constant.err;
  const auto sqrt = run({"--lr", "sqrt"});
  EXPECT_NE(sqrt.err.find("give it: --lr-param eta0=ETA"), std::string::npos) << sqrt.err;
  // What they suggest works.
  EXPECT_EQ(run({"--lr", "constant", "--lr-param", "eta=0.1"}).exit_code, 0);
  EXPECT_EQ(run({"--lr", "sqrt", "--lr-param", "eta0=0.1"}).exit_code, 0);
}

}  // namespace

namespace {

TEST(TrainTargets, TargetsMustBePositiveAndRelativeToANonzeroFstar) {
  core::TrainOptions o;
  o.objective.name = "logreg";
  o.target = 0;
  EXPECT_EQ(o.validate(), "--target and --target-rel must be > 0");
  o.target.reset();
  o.target_rel = -1;
  EXPECT_EQ(o.validate(), "--target and --target-rel must be > 0");
  o.target_rel = 0.1;
  o.fstar = 0;
  EXPECT_EQ(o.validate(), "--target-rel is relative to f*, which --fstar gives as 0: use --target");
}

TEST(TrainTargets, ABudgetBeyondWhatARunCanCountIsRefused) {
  core::TrainOptions o;
  o.objective.name = "logreg";
  o.target_rel = 1e-2;
  o.max_epochs = 1e18;
  try {
    core::resolve_steps(o, 32561);
    FAIL() << "no error";
  } catch (const localsgd::UsageError& e) {
    EXPECT_STREQ(
        e.what(),
        "--epochs/--max-epochs 1e+18 gives 2.035e+21 steps, more than a run can count (2^62)");
  }
}

TEST(TrainTargets, StepsWhoseSampleCountOverflowsAreRefused) {
  core::TrainOptions o;
  o.objective.name = "logreg";
  o.steps = std::int64_t{1} << 60;
  o.workers = 1000;
  o.batch = 1000;
  try {
    core::resolve_steps(o, 100);
    FAIL() << "no error";
  } catch (const localsgd::UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "--steps 1152921504606846976 with K = 1000 and b = 1000 is 1.153e+24 sampled "
                 "gradients, more than a run can count (2^62)");
  }
  o.steps = std::int64_t{1} << 40;  // 1.1e18 samples: countable
  EXPECT_EQ(core::resolve_steps(o, 100), std::int64_t{1} << 40);
}

// The guard's verdict must not depend on how often the run is checked: an early spike
// that the run recovers from (softmax on dna.scale with a constant step of 10 reaches
// f = 12 at step 1 and ends near 2.5) stops nothing, checked every step or never.
TEST(TrainTargets, TheGuardsVerdictDoesNotDependOnTheCheckCadence) {
  const auto path = localsgd::testing::data_file("dna.scale");
  LOCALSGD_REQUIRE_DATA_FILE(path);
  std::string objective[2];
  for (const char* every : {"1", "0"}) {
    const auto r = run_cli({"train", "--plugin", "softmax", "--data", path.string(), "--lr",
                            "constant", "--lr-param", "eta=10", "--epochs", "3", "--eval-every",
                            every, "--format", "json"});
    ASSERT_EQ(r.exit_code, 0) << "--eval-every " << every << ": " << r.err;
    objective[every[0] - '0'] = nlohmann::json::parse(last_line(r.out))["objective"].dump();
  }
  EXPECT_EQ(objective[0], objective[1]);  // and checking does not change the run
}

TEST(TrainTargets, NonFiniteValuesNameAStepSizeToTry) {
  const auto path = localsgd::testing::data_file("abalone_scale");
  LOCALSGD_REQUIRE_DATA_FILE(path);
  const auto r = run_cli({"train", "--plugin", "ridge", "--data", path.string(), "--lr", "constant",
                          "--lr-param", "eta=5", "--epochs", "5"});
  EXPECT_EQ(r.exit_code, localsgd::kExitRuntime);
  EXPECT_NE(r.err.find("non-finite"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("; try --lr-param eta=0.5"), std::string::npos) << r.err;
}

}  // namespace
