// TrainOptions::validate() is the one place where train's options are checked: every rule
// answers with its own message, and valid options pass.
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "localsgd/core/errors.hpp"
#include "localsgd/core/run/train.hpp"
#include "test_support.hpp"

namespace {

namespace core = localsgd::core;

core::TrainOptions valid() {
  core::TrainOptions o;
  o.objective.name = "logreg";
  return o;
}

TEST(TrainOptions, DefaultsWithAnObjectiveAreValid) {
  EXPECT_EQ(valid().validate(), std::nullopt);
  auto o = valid();
  o.async.enabled = true;
  o.async.speeds = {1, 0.5, 0.5, 2};
  o.async.max_staleness = 1;
  o.local_steps = 3;
  o.target_rel = 1e-3;
  o.plot = "p.svg";
  EXPECT_EQ(o.validate(), std::nullopt);
}

TEST(TrainOptions, EachRuleHasItsMessage) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<std::pair<std::function<void(core::TrainOptions&)>, std::string>> cases = {
      {[](auto& o) { o.objective.name.clear(); }, "--plugin is required"},
      {[](auto& o) { o.workers = 0; }, "--workers must be between 1 and 16777216"},
      {[](auto& o) { o.workers = std::int64_t{1} << 40; },
       "--workers must be between 1 and 16777216"},
      {[](auto& o) { o.batch = -1; }, "--batch must be between 1 and 1073741824"},
      {[](auto& o) { o.batch = std::int64_t{1} << 40; },
       "--batch must be between 1 and 1073741824"},
      {[](auto& o) {
         o.lr = core::StepRule::automatic;
         o.lr_params.set("warmup", "5");
       },
       "--lr auto takes no --lr-param (it chooses the step size itself): drop --lr auto to "
       "give invtime's parameters, or name a rule, e.g. --lr constant --lr-param eta=0.1"},
      {[](auto& o) { o.local_steps = 0; }, "--local-steps must be at least 1"},
      {[](auto& o) {
         o.local_steps = 4;
         o.schedule.name = "adacomm";
       },
       "--local-steps sets the constant schedule; with --schedule adacomm use --schedule-param"},
      {[](auto& o) {
         o.steps = 5;
         o.epochs = 1;
       },
       "give --steps or --epochs, not both"},
      {[](auto& o) { o.steps = 0; }, "--steps must be at least 1"},
      {[&](auto& o) { o.epochs = inf; }, "--epochs must be > 0"},
      {[](auto& o) { o.epochs = 0; }, "--epochs must be > 0"},
      {[](auto& o) { o.avg_shift = -1; }, "--avg-shift must be a number from 0 to 1e100"},
      {[](auto& o) { o.avg_shift = 1e160; }, "--avg-shift must be a number from 0 to 1e100"},
      {[](auto& o) { o.threads = -2; }, "--threads must be >= 0"},
      {[](auto& o) {
         o.target = 1;
         o.target_rel = 1;
       },
       "give --target or --target-rel, not both"},
      {[&](auto& o) { o.fstar = inf; }, "--fstar, --target and --target-rel must be finite"},
      {[](auto& o) { o.eval_every = -1; }, "--eval-every must be >= 0"},
      {[](auto& o) { o.plot = "p.pdf"; }, "--plot p.pdf: use a .svg or .png file"},
      {[](auto& o) {
         o.async.speeds = {1, 1, 1, 1};
       },
       "--worker-speeds and --max-staleness need --async"},
      {[](auto& o) { o.async.max_staleness = 2; },
       "--worker-speeds and --max-staleness need --async"},
      {[](auto& o) {
         o.async.enabled = true;
         o.async.speeds = {1, 2};
       },
       "--worker-speeds needs one speed per worker (4)"},
      {[](auto& o) {
         o.async.enabled = true;
         o.async.speeds = {1, 2, 0, 1};
       },
       "--worker-speeds must be positive"},
      {[](auto& o) {
         o.async.enabled = true;
         o.async.max_staleness = 0;
       },
       "--max-staleness must be >= 1"},
  };
  for (const auto& [change, message] : cases) {
    auto o = valid();
    change(o);
    EXPECT_EQ(o.validate().value_or("(valid)"), message);
    // train() refuses them with that message, before loading anything.
    try {
      core::train(o);
      ADD_FAILURE() << "no UsageError for: " << message;
    } catch (const localsgd::UsageError& e) {
      EXPECT_EQ(std::string(e.what()), message);
    }
  }
}

// The command line reaches the same check: a usage error, exit 2, the same message.
TEST(TrainOptions, TheCommandLineReportsTheSameMessages) {
  const auto r = localsgd::testing::run_cli(
      {"train", "--plugin", "logreg", "-H", "4", "--schedule", "adacomm"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "localsgd: error: --local-steps sets the constant schedule; with --schedule adacomm "
            "use --schedule-param\n");
  const auto w = localsgd::testing::run_cli({"train", "--plugin", "logreg", "-K", "0"});
  EXPECT_EQ(w.exit_code, 2);
  EXPECT_EQ(w.err, "localsgd: error: --workers must be between 1 and 16777216\n");
}

}  // namespace
