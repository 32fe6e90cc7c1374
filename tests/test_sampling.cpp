// Sample streams: i.i.d. draws and shuffled passes, alone and over a partition's rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <set>

#include <tbb/global_control.h>
#include <nlohmann/json.hpp>

#include "localsgd/core/errors.hpp"
#include "localsgd/core/run/train.hpp"
#include "localsgd/core/engine/sampling.hpp"
#include "test_support.hpp"

namespace {

namespace core = localsgd::core;

std::vector<std::int64_t> stream(core::RowSampler& sampler, std::int64_t steps, std::size_t b) {
  std::vector<std::int64_t> all, batch(b);
  for (std::int64_t t = 0; t < steps; ++t) {
    sampler.draw(t, batch);
    all.insert(all.end(), batch.begin(), batch.end());
  }
  return all;
}

TEST(Sampling, ShuffledPassesVisitEveryRowOncePerPass) {
  core::RowSampler sampler(5, 2, {}, 10, core::Sampling::shuffle, 3);
  const auto rows = stream(sampler, 20, 3);  // 60 samples = 6 passes, batches straddle passes
  for (int pass = 0; pass < 6; ++pass) {
    std::vector<std::int64_t> visited(rows.begin() + pass * 10, rows.begin() + pass * 10 + 10);
    std::sort(visited.begin(), visited.end());
    std::vector<std::int64_t> all(10);
    std::iota(all.begin(), all.end(), 0);
    EXPECT_EQ(visited, all) << "pass " << pass;
  }
  EXPECT_NE(
      std::vector<std::int64_t>(rows.begin(), rows.begin() + 10),
      std::vector<std::int64_t>(rows.begin() + 10, rows.begin() + 20));  // new order each pass
  core::RowSampler again(5, 2, {}, 10, core::Sampling::shuffle, 3);
  EXPECT_EQ(stream(again, 20, 3), rows);
  core::RowSampler other_worker(5, 3, {}, 10, core::Sampling::shuffle, 3);
  EXPECT_NE(stream(other_worker, 20, 3), rows);
}

TEST(Sampling, BothModesStayInsideTheWorkersRows) {
  const std::vector<std::int64_t> part{3, 8, 13, 21};
  for (auto mode : {core::Sampling::iid, core::Sampling::shuffle}) {
    core::RowSampler sampler(1, 0, part, 30, mode, 2);
    for (std::int64_t i : stream(sampler, 50, 2))
      EXPECT_TRUE(std::find(part.begin(), part.end(), i) != part.end()) << i;
  }
  core::RowSampler iid(1, 0, {}, 7, core::Sampling::iid, 4);
  std::set<std::int64_t> seen;
  for (std::int64_t i : stream(iid, 200, 4)) {
    ASSERT_GE(i, 0);
    ASSERT_LT(i, 7);
    seen.insert(i);
  }
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_THROW(core::parse_sampling("random"), localsgd::UsageError);
}

TEST(Sampling, ShuffledRunsAreDeterministicAcrossThreadCountsAndDifferFromIid) {
  auto run = [](const char* sampling, int threads) {
    core::TrainOptions r;
    r.objective.name = "logreg";
    r.reader.params.set("n", "997");
    r.sampling = core::parse_sampling(sampling);
    r.workers = 3;
    r.steps = 500;
    r.threads = threads;
    tbb::global_control cap(tbb::global_control::max_allowed_parallelism, threads);
    return core::train(r);
  };
  const auto one = run("shuffle", 1), two = run("shuffle", 2), iid = run("iid", 2);
  EXPECT_TRUE(localsgd::testing::bitwise_equal(one.result.x_hat, two.result.x_hat));
  EXPECT_NE(one.json()["objective"], iid.json()["objective"]);
  EXPECT_EQ(one.json()["sampling"], "shuffle");
}

}  // namespace
