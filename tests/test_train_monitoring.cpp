// train's monitoring: progress events, stopping at a target, f* from the cache, warm
// starts, test-set scores and communication accounting.
#include <gtest/gtest.h>

#include <cstring>

#include <nlohmann/json.hpp>

#include "localsgd/core/data/loading.hpp"
#include "localsgd/core/errors.hpp"
#include "localsgd/core/io/fstar_cache.hpp"
#include "localsgd/core/io/model_io.hpp"
#include "localsgd/core/plugins/plugins.hpp"
#include "localsgd/core/run/train.hpp"
#include "localsgd/core/solve/solve.hpp"
#include "test_support.hpp"

namespace {

namespace core = localsgd::core;
using localsgd::testing::last_line;
using localsgd::testing::run_cli;
using localsgd::testing::TempDir;

core::TrainOptions small_run() {
  core::TrainOptions r;
  r.objective.name = "logreg";
  r.reader.params.set("n", "2000");
  r.reader.params.set("d", "40");
  r.workers = 3;
  r.batch = 2;
  r.schedule.params.set("H", "5");
  r.steps = 700;
  return r;
}

// f* of the request's objective on its data, from the exact solver (as `train --target`
// computes it when no f* is given), loaded and built as train() does.
double exact_fstar(const core::TrainOptions& request) {
  const localsgd::Dataset data =
      core::load_dataset(request.data, request.reader.name, request.reader.params);
  const auto f = core::build_objective(
      core::load_plugin(request.objective.name, localsgd::PluginKind::objective),
      request.objective.params, data);
  return core::solve(*f, data.view()).fstar;
}

TEST(TrainMonitoring, EvaluationDoesNotChangeTheRun) {
  const auto plain = core::train(small_run());
  auto with_eval = small_run();
  with_eval.eval_every = 33;  // not a multiple of H: evaluates between syncs too
  std::vector<nlohmann::ordered_json> events;
  const auto evaluated = core::train(with_eval, [&](const auto& e) { events.push_back(e); });
  ASSERT_EQ(plain.result.x_hat.size(), evaluated.result.x_hat.size());
  EXPECT_TRUE(localsgd::testing::bitwise_equal(plain.result.x_hat, evaluated.result.x_hat));
  EXPECT_EQ(plain.json()["objective"], evaluated.json()["objective"]);
  EXPECT_EQ(plain.json()["rounds"], evaluated.json()["rounds"]);
  ASSERT_EQ(events.size(), 21u);  // steps 33, 66, ..., 693
  EXPECT_EQ(events[0]["event"], "progress");
  EXPECT_EQ(events[0]["step"], 33);
  EXPECT_EQ(events[0]["rounds"], 6);  // syncs after steps 5, 10, ..., 30
  EXPECT_EQ(events[0]["grad_evals"], 33 * 6);
  for (const char* key : {"objective", "objective_last", "suboptimality", "rel_suboptimality",
                          "grad_norm", "epochs", "seconds"})
    EXPECT_TRUE(events[0].contains(key)) << key;
  // Progress is progress: the objective at the end beats the one at the first event.
  EXPECT_LT(events.back()["objective"].get<double>(), events[0]["objective"].get<double>());
}

TEST(TrainMonitoring, StopsWhenTheRelativeTargetIsReached) {
  auto r = small_run();
  r.steps = 100000;
  r.lr = core::StepRule::constant;
  r.lr_params.set("eta", "2");
  r.fstar = exact_fstar(r);
  r.target_rel = 2e-2;
  r.eval_every = 50;
  const auto outcome = core::train(r);
  const auto& s = outcome.json();
  EXPECT_TRUE(s["target_reached"].get<bool>());
  EXPECT_LE(s["rel_suboptimality"].get<double>(), 2e-2);
  EXPECT_LT(s["steps"].get<std::int64_t>(), 100000);
  EXPECT_EQ(s["steps"], s["steps_to_target"]);
  EXPECT_EQ(s["steps"].get<std::int64_t>() % 50, 0);
  EXPECT_EQ(s["grad_evals"].get<std::int64_t>(), s["steps"].get<std::int64_t>() * 6);
}

TEST(TrainMonitoring, TargetWithoutFstarSolvesOnceAndCaches) {
  TempDir cache;
  const std::string env = "XDG_CACHE_HOME=" + cache.path().string();
  const std::vector<std::string> args{"train",    "--plugin", "logreg",   "--target", "1e-3",
                                      "--format", "json",     "--epochs", "30"};
  const auto first = run_cli(args, env);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.err.find("computed f* ="), std::string::npos) << first.err;
  EXPECT_TRUE(std::filesystem::exists(cache.path() / "localsgd"));
  const auto second = run_cli(args, env);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.err.find("computed f*"), std::string::npos) << "cache not used: " << second.err;
  const auto s1 = nlohmann::json::parse(last_line(first.out));
  const auto s2 = nlohmann::json::parse(last_line(second.out));
  EXPECT_EQ(s1["fstar"], s2["fstar"]);
  EXPECT_TRUE(s1["target_reached"].get<bool>());
  EXPECT_LE(s1["suboptimality"].get<double>(), 1e-3);
  // Progress lines come before the summary, one JSON object each.
  EXPECT_NE(first.out.find("\"event\":\"progress\""), std::string::npos);
}

TEST(TrainMonitoring, NonConvexObjectiveNeedsAnExplicitFstarForATarget) {
  const auto r = run_cli({"train", "--plugin", "mlp", "--target", "0.1", "--lr", "constant",
                          "--lr-param", "eta=0.1", "--steps", "10"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("not convex"), std::string::npos) << r.err;
}

TEST(TrainMonitoring, WarmStartFromTheOptimumStaysThere) {
  TempDir dir;
  const auto xstar = dir.path() / "xstar.model";
  const auto solved =
      run_cli({"solve", "--plugin", "logreg", "--format", "json", "--out", xstar.string()});
  ASSERT_EQ(solved.exit_code, 0) << solved.err;
  const double fstar = nlohmann::json::parse(solved.out)["fstar"].get<double>();
  auto r = small_run();
  r.reader.params = {};
  r.init = xstar.string();
  r.lr = core::StepRule::constant;
  r.lr_params.set("eta", "1e-9");
  r.fstar = fstar;
  const auto s = core::train(r).json();
  EXPECT_LT(s["rel_suboptimality"].get<double>(), 1e-8);
  EXPECT_GE(s["suboptimality"].get<double>(), -1e-15);

  auto wrong = small_run();  // 40 columns: the model has 100
  wrong.init = xstar.string();
  try {
    core::train(wrong);
    ADD_FAILURE() << "a model of another dimension was accepted as --init";
  } catch (const localsgd::DataError& e) {  // a mismatched file: exit 3, like eval's
    EXPECT_EQ(e.file(), xstar.string());
    EXPECT_EQ(std::string(e.what()),
              "--init: the model has 100 coefficients; the objective on this data has 40");
  }
}

TEST(TrainMonitoring, SummaryAccountsForCommunicationAndTestScores) {
  auto r = small_run();
  r.test = "";
  const auto s = core::train(r).json();
  EXPECT_EQ(s["rounds"], 140);  // 700 / 5
  EXPECT_EQ(s["vectors_averaged"], 140 * 3);
  EXPECT_EQ(s["bytes_averaged"], 140 * 3 * 40 * 8);
  EXPECT_DOUBLE_EQ(s["comm_ratio"].get<double>(), 140.0 / 700.0);

  const auto path = localsgd::testing::data_file("a9a");
  LOCALSGD_REQUIRE_DATA_FILE(path);
  core::TrainOptions a9a;
  a9a.objective.name = "logreg";
  a9a.data = path.string();
  a9a.test = localsgd::testing::data_file("a9a.t").string();
  a9a.epochs = 5;
  a9a.eval_every = 2000;
  std::vector<nlohmann::ordered_json> events;
  const auto t = core::train(a9a, [&](const auto& e) { events.push_back(e); }).json();
  ASSERT_FALSE(events.empty());
  EXPECT_TRUE(events[0].contains("test_accuracy"));
  EXPECT_GT(t["test_accuracy"].get<double>(), 0.84);  // LIBLINEAR gets about 0.85 on a9a.t
  EXPECT_LT(t["test_accuracy"].get<double>(), 0.86);
}

}  // namespace

namespace {

TEST(TrainMonitoring, PlotDrawsTheProgressCurve) {
  TempDir dir;
  const auto svg = dir.path() / "curve.svg";
  const auto r = run_cli(
      {"train", "--plugin", "logreg", "--epochs", "3", "--plot", svg.string(), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(localsgd::testing::read_text(svg).find("<svg"), std::string::npos);
  // Eight evaluations per epoch by default.
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3 * 8 + 1);
  const auto bad = run_cli({"train", "--plugin", "logreg", "--steps", "5", "--plot", "x.pdf"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
}

}  // namespace
