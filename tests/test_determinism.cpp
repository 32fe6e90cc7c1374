// Same seed and K give bitwise identical results for any thread count; seeds matter.
#include <gtest/gtest.h>

#include <cstring>

#include <tbb/global_control.h>
#include <nlohmann/json.hpp>

#include "localsgd/core/run/train.hpp"
#include "test_support.hpp"

namespace {

namespace core = localsgd::core;
using localsgd::testing::bitwise_equal;
using localsgd::testing::last_line;
using localsgd::testing::run_cli;

core::TrainOutcome run(int threads, std::uint64_t seed, std::int64_t H) {
  core::TrainOptions r;
  r.objective.name = "logreg";
  r.reader.params.set("n", "3000");
  r.reader.params.set("d", "50000");  // large d: averaging takes its parallel path too
  r.reader.params.set("density", "0.001");
  r.schedule.params.set("H", std::to_string(H));
  r.workers = 5;
  r.batch = 3;
  r.steps = 600;
  r.seed = seed;
  r.threads = threads;
  tbb::global_control cap(tbb::global_control::max_allowed_parallelism, threads);
  return core::train(r);
}

nlohmann::ordered_json without_timings(nlohmann::ordered_json s) {
  for (const char* key : {"seconds", "load_seconds", "train_seconds", "sync_seconds",
                          "eval_seconds", "samples_per_second", "threads"})
    s.erase(key);
  return s;
}

TEST(Determinism, ThreadCountDoesNotChangeABit) {
  for (std::int64_t H : {1, 7}) {
    const auto one = run(1, 11, H);
    const auto two = run(2, 11, H);
    EXPECT_TRUE(bitwise_equal(one.result.x_hat, two.result.x_hat)) << "H=" << H;
    EXPECT_TRUE(bitwise_equal(one.result.x_last, two.result.x_last)) << "H=" << H;
    EXPECT_EQ(without_timings(one.json()), without_timings(two.json())) << "H=" << H;
  }
}

TEST(Determinism, SameSeedRepeatsAndOtherSeedsDiffer) {
  const auto a = run(2, 11, 4);
  const auto b = run(2, 11, 4);
  const auto c = run(2, 12, 4);
  EXPECT_TRUE(bitwise_equal(a.result.x_hat, b.result.x_hat));
  EXPECT_FALSE(bitwise_equal(a.result.x_hat, c.result.x_hat));
  EXPECT_NE(a.json()["objective"], c.json()["objective"]);
}

TEST(Determinism, ExecutableSummaryIsIdenticalForOneAndTwoThreads) {
  auto summary = [](const char* threads) {
    const auto r = run_cli({"train", "--plugin", "logreg", "--format", "json", "-K", "4",
                            "--threads", threads, "--epochs", "3"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return without_timings(nlohmann::ordered_json::parse(last_line(r.out)));
  };
  EXPECT_EQ(summary("1"), summary("2"));
}

}  // namespace

namespace {

TEST(BatchMultiplier, MinibatchScheduleIsLocalSgdWithHEqualOneAndBiggerBatches) {
  // A schedule with batch multiplier 4 turns T = 40 steps of batch 3 into 10 steps of
  // batch 12, syncing every step: the same computation as H = 1 with b = 12.
  auto run_with = [](const std::string& schedule, const char* H, std::int64_t b, std::int64_t T) {
    core::TrainOptions r;
    r.objective.name = "logreg";
    r.reader.params.set("n", "500");
    r.schedule.name = schedule;
    r.schedule.params.set("H", H);
    r.workers = 2;
    r.batch = b;
    r.steps = T;
    r.lr = core::StepRule::constant;
    r.lr_params.set("eta", "0.5");
    return core::train(r);
  };
  const auto big =
      run_with(std::string(LOCALSGD_FIXTURE_DIR) + "/fixture_minibatch.so", "4", 3, 40);
  const auto same = run_with("constant", "1", 12, 10);
  EXPECT_EQ(big.json()["steps"], 10);
  EXPECT_EQ(big.json()["batch"], 12);
  EXPECT_EQ(big.json()["rounds"], 10);
  EXPECT_EQ(big.json()["grad_evals"], 240);
  EXPECT_TRUE(bitwise_equal(big.result.x_hat, same.result.x_hat));
  EXPECT_TRUE(bitwise_equal(big.result.x_last, same.result.x_last));
}

}  // namespace
