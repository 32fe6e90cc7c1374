// Asynchronous Local SGD in simulated time: equal speeds reduce to the synchronous run
// bit for bit; the staleness bound holds; runs depend on the seed and speeds only.
#include <gtest/gtest.h>

#include <cstring>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "localsgd/core/errors.hpp"
#include "localsgd/core/run/train.hpp"
#include "test_support.hpp"

namespace {

namespace core = localsgd::core;

core::TrainOptions request(bool async, const std::string& speeds = "", std::int64_t tau = -1) {
  core::TrainOptions r;
  r.objective.name = "logreg";
  r.reader.params.set("n", "1500");
  r.workers = 4;
  r.batch = 2;
  r.schedule.params.set("H", "6");
  r.steps = 400;
  r.async.enabled = async;
  if (speeds == "random") {
    r.async.random_speeds = true;
  } else {
    std::stringstream list(speeds);
    std::string item;
    while (std::getline(list, item, ',')) r.async.speeds.push_back(std::stod(item));
  }
  if (tau >= 0) r.async.max_staleness = tau;
  return r;
}

TEST(Async, EqualSpeedsAreTheSynchronousRunBitForBit) {
  const auto sync = core::train(request(false));
  const auto async = core::train(request(true, "2,2,2,2"));
  EXPECT_TRUE(localsgd::testing::bitwise_equal(sync.result.x_hat, async.result.x_hat));
  EXPECT_TRUE(localsgd::testing::bitwise_equal(sync.result.x_last, async.result.x_last));
  EXPECT_EQ(sync.json()["rounds"], async.json()["rounds"]);
  EXPECT_EQ(async.json()["max_staleness"], 0);
}

TEST(Async, SlowWorkersMakeStaleAveragesWithinTheBound) {
  const auto free = core::train(request(true, "1,1,0.5,0.25"));
  EXPECT_GT(free.json()["max_staleness"].get<std::int64_t>(), 10);
  EXPECT_EQ(free.json()["grad_evals"], 4 * 400 * 2);  // every worker takes all T steps
  const auto bounded = core::train(request(true, "1,1,0.5,0.25", 2));
  EXPECT_LE(bounded.json()["max_staleness"].get<std::int64_t>(), 2);
  EXPECT_GT(bounded.json()["mean_staleness"].get<double>(), 0.0);
  EXPECT_FALSE(localsgd::testing::bitwise_equal(free.result.x_hat, bounded.result.x_hat));
  // Still optimising: better than x_0 = 0, where the loss is log 2.
  EXPECT_LT(bounded.json()["objective"].get<double>(), 0.6);
}

TEST(Async, RunsDependOnSeedAndSpeedsOnly) {
  const auto a = core::train(request(true, "random", 3));
  const auto b = core::train(request(true, "random", 3));
  EXPECT_TRUE(localsgd::testing::bitwise_equal(a.result.x_hat, b.result.x_hat));
  auto other_seed = request(true, "random", 3);
  other_seed.seed = 2;
  const auto c = core::train(other_seed);
  EXPECT_NE(a.json()["worker_speeds"], c.json()["worker_speeds"]);
}

TEST(Async, MisuseIsAUsageError) {
  EXPECT_THROW(core::train(request(true, "1,2")), localsgd::UsageError);
  EXPECT_THROW(core::train(request(false, "1,1,1,1")), localsgd::UsageError);
  const auto r = localsgd::testing::run_cli(
      {"train", "--plugin", "logreg", "--async", "--worker-speeds", "1,x"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

// Group syncs have no meaning when every worker averages on its own clock: the schedule
// declares them, and the run is refused before it starts, naming both.
TEST(Async, GroupSchedulesAreRefusedBeforeTheRun) {
  auto groups = request(true);
  groups.schedule.name = "hierarchical";
  groups.schedule.params = {};
  EXPECT_THROW(core::train(groups), localsgd::UsageError);
  const auto r = localsgd::testing::run_cli(
      {"train", "--plugin", "logreg", "--async", "--schedule", "hierarchical"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "localsgd: error: schedule 'hierarchical' needs group syncs, which --async runs cannot "
            "provide\n");
  EXPECT_TRUE(r.out.empty());
}

// Every schedule that an asynchronous run accepts gives, with equal speeds, the
// synchronous run bit for bit: its own combination (outer-nesterov) and F at the average
// (adacomm) included.
TEST(Async, EqualSpeedsEqualSyncForEverySchedule) {
  const std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>>
      schedules = {{"constant", {{"H", "5"}}},
                   {"outer-nesterov", {{"H", "4"}}},
                   {"adacomm", {{"H0", "4"}, {"Hmax", "32"}}},
                   {"growing", {{"tau0", "2"}, {"alpha", "0.5"}}},
                   {"post-local", {{"t0", "50"}, {"H", "8"}}},
                   {"list", {{"steps", "3,9,27,81,243"}}},
                   {"minibatch", {{"H", "4"}}}};
  for (const auto& [name, params] : schedules) {
    SCOPED_TRACE(name);
    auto sync = request(false);
    sync.schedule.name = name;
    sync.schedule.params = {};
    for (const auto& [k, v] : params) sync.schedule.params.set(k, v);
    auto async = sync;
    async.async.enabled = true;
    async.async.speeds = {1.5, 1.5, 1.5, 1.5};
    const auto a = core::train(sync);
    const auto b = core::train(async);
    EXPECT_TRUE(localsgd::testing::bitwise_equal(a.result.x_hat, b.result.x_hat));
    EXPECT_TRUE(localsgd::testing::bitwise_equal(a.result.x_last, b.result.x_last));
    EXPECT_EQ(a.json()["rounds"], b.json()["rounds"]);
    EXPECT_EQ(a.json()["objective"], b.json()["objective"]);
  }
}

// The outer step really happens in asynchronous runs: not the plain average.
TEST(Async, OuterNesterovIsNotPlainAveraging) {
  auto nesterov = request(true, "1,1,0.5,0.25");
  nesterov.schedule.name = "outer-nesterov";
  nesterov.schedule.params = {};
  nesterov.schedule.params.set("H", "6");
  auto plain = request(true, "1,1,0.5,0.25");
  const auto a = core::train(nesterov);
  const auto b = core::train(plain);
  EXPECT_FALSE(localsgd::testing::bitwise_equal(a.result.x_hat, b.result.x_hat));
  EXPECT_EQ(a.json()["schedule"], "outer-nesterov");
  // Still a sensible model: better than x_0 = 0 (loss log 2).
  EXPECT_LT(a.json()["objective"].get<double>(), 0.6);
}

// Progress events and targets work in asynchronous runs: the target stops the run, the
// run is deterministic, and progress counts the workers' mean step.
TEST(Async, TargetsAndProgressWork) {
  auto r = request(true, "1,0.7,0.5,0.25", 3);
  r.steps = 4000;
  r.target_rel = 0.05;
  std::vector<nlohmann::ordered_json> events;
  const auto a = core::train(r, [&](const nlohmann::ordered_json& e) { events.push_back(e); });
  ASSERT_TRUE(a.json()["target_reached"].get<bool>()) << a.json().dump();
  EXPECT_LE(a.json()["rel_suboptimality"].get<double>(), 0.05);
  EXPECT_LT(a.json()["steps"].get<std::int64_t>(), 4000);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["step"], a.json()["steps_to_target"]);
  for (std::size_t i = 1; i < events.size(); ++i)
    EXPECT_GT(events[i]["step"].get<std::int64_t>(), events[i - 1]["step"].get<std::int64_t>());
  const auto b = core::train(r);
  EXPECT_TRUE(localsgd::testing::bitwise_equal(a.result.x_hat, b.result.x_hat));
  EXPECT_EQ(a.json()["steps"], b.json()["steps"]);
  auto every = request(true, "1,0.5,1,0.5");
  every.eval_every = 50;
  std::size_t count = 0;
  core::train(every, [&](const nlohmann::ordered_json&) { ++count; });
  EXPECT_GE(count, 6u);  // about 400 / 50, at the batches that reach each step
}

}  // namespace

namespace {

TEST(Async, StalenessBoundIsAtLeastOneRound) {
  EXPECT_THROW(core::train(request(true, "1,0.3,0.7,0.1", 0)), localsgd::UsageError);
  const auto one = core::train(request(true, "1,0.3,0.7,0.1", 1));
  EXPECT_EQ(one.json()["max_staleness"], 1);
}

}  // namespace
