// Partitions of the rows across workers: coverage, disjointness, sizes, skew, seeds.
#include <gtest/gtest.h>

#include <map>
#include <numeric>
#include <set>

#include <nlohmann/json.hpp>

#include "localsgd/core/data/loading.hpp"
#include "localsgd/core/engine/partition.hpp"
#include "localsgd/core/errors.hpp"
#include "test_support.hpp"

namespace {

namespace core = localsgd::core;

// n rows, labels cycling through `classes` values (class c has label c).
localsgd::Dataset labelled(std::int64_t n, int classes) {
  localsgd::Dataset data;
  data.cols = 1;
  for (std::int64_t i = 0; i < n; ++i) {
    data.row_ptr.push_back(0);
    data.label.push_back(static_cast<double>(i % classes));
  }
  return data;
}

// Every row in exactly one part.
void expect_exact_cover(const core::Partition& p, std::int64_t n) {
  std::vector<int> seen(static_cast<std::size_t>(n), 0);
  for (const auto& part : p.rows) {
    EXPECT_TRUE(std::is_sorted(part.begin(), part.end()));
    for (std::int64_t i : part) ++seen[static_cast<std::size_t>(i)];
  }
  for (std::int64_t i = 0; i < n; ++i)
    ASSERT_EQ(seen[static_cast<std::size_t>(i)], 1) << "row " << i;
}

TEST(Partition, SharedGivesEveryWorkerAllRows) {
  const auto data = labelled(10, 2);
  const auto p = core::make_partition("shared", {}, data.view(), 3, 1);
  EXPECT_TRUE(p.rows.empty());
  EXPECT_EQ(p.description, "shared");
}

TEST(Partition, ShardIsADisjointSeededCoverOfNearEqualParts) {
  const auto data = labelled(1003, 2);
  const auto p = core::make_partition("shard", {}, data.view(), 4, 7);
  ASSERT_EQ(p.rows.size(), 4u);
  expect_exact_cover(p, 1003);
  for (const auto& part : p.rows) EXPECT_TRUE(part.size() == 250 || part.size() == 251);
  // Random, not contiguous: worker 0 holds rows from all over.
  EXPECT_GT(p.rows[0].back() - p.rows[0].front(), 900);
  EXPECT_EQ(core::make_partition("shard", {}, data.view(), 4, 7).rows, p.rows);
  EXPECT_NE(core::make_partition("shard", {}, data.view(), 4, 8).rows, p.rows);
}

TEST(Partition, ContiguousUsesFloorBoundaries) {
  const auto data = labelled(10, 2);
  const auto p = core::make_partition("contiguous", {}, data.view(), 3, 1);
  EXPECT_EQ(p.rows[0], (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_EQ(p.rows[1], (std::vector<std::int64_t>{3, 4, 5}));
  EXPECT_EQ(p.rows[2], (std::vector<std::int64_t>{6, 7, 8, 9}));
}

std::vector<std::map<double, double>> label_shares(const core::Partition& p,
                                                   const localsgd::Dataset& data) {
  std::vector<std::map<double, double>> shares;
  for (const auto& part : p.rows) {
    std::map<double, double> count;
    for (std::int64_t i : part)
      count[data.label[static_cast<std::size_t>(i)]] += 1.0 / static_cast<double>(part.size());
    shares.push_back(count);
  }
  return shares;
}

TEST(Partition, LabelSkewFollowsItsConcentration) {
  const auto data = labelled(6000, 3);
  localsgd::ParamMap mild, strong;
  mild.set("alpha", "1000");
  strong.set("alpha", "0.05");
  const auto even = core::make_partition("label-skew", mild, data.view(), 4, 3);
  expect_exact_cover(even, 6000);
  EXPECT_EQ(even.description, "label-skew(alpha=1000)");
  for (const auto& s : label_shares(even, data))
    for (const auto& [label, share] : s) EXPECT_NEAR(share, 1.0 / 3, 0.05) << label;

  const auto skewed = core::make_partition("label-skew", strong, data.view(), 4, 3);
  expect_exact_cover(skewed, 6000);
  int dominated = 0;
  for (const auto& s : label_shares(skewed, data))
    for (const auto& [label, share] : s) dominated += share > 0.9;
  EXPECT_GE(dominated, 2);
  EXPECT_EQ(core::make_partition("label-skew", strong, data.view(), 4, 3).rows, skewed.rows);
}

TEST(Partition, ErrorsNameTheProblem) {
  const auto data = labelled(3, 1);
  EXPECT_THROW(core::make_partition("random", {}, data.view(), 2, 1), localsgd::UsageError);
  EXPECT_THROW(core::make_partition("shard", {}, data.view(), 4, 1), localsgd::UsageError);
  localsgd::ParamMap bad;
  bad.set("beta", "1");
  EXPECT_THROW(core::make_partition("label-skew", bad, data.view(), 2, 1), localsgd::UsageError);
  bad = {};
  bad.set("alpha", "-1");
  EXPECT_THROW(core::make_partition("label-skew", bad, data.view(), 2, 1), localsgd::UsageError);
}

TEST(Partition, SummaryReportsThePartition) {
  const auto r = localsgd::testing::run_cli(
      {"train", "--plugin", "logreg", "--partition", "shard", "--format", "json", "--steps", "20"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(localsgd::testing::last_line(r.out))["partition"], "shard");
  const auto bad = localsgd::testing::run_cli({"train", "--plugin", "logreg", "--partition", "x"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("available: shared, shard, contiguous, label-skew"), std::string::npos);
}

// A rank keeps its workers' rows in place (keep_only_rows): the same data set as a copy of
// those rows, for consecutive and scattered rows, the first and last rows, rows without
// entries and none at all; large enough (64k entries) that pages are handed back.
TEST(KeepOnlyRows, EqualsACopyOfTheRows) {
  localsgd::Dataset whole;
  whole.cols = 50;
  for (std::int64_t i = 0; i < 4000; ++i) {
    for (std::int32_t j = 0; j < static_cast<std::int32_t>(i % 33); ++j) {
      whole.index.push_back(j + static_cast<std::int32_t>(i % 17));
      whole.value.push_back(static_cast<double>(i) + 0.001 * j);
    }
    whole.row_ptr.push_back(static_cast<std::int64_t>(whole.index.size()));
    whole.label.push_back(static_cast<double>(i % 5));
  }
  std::vector<std::int64_t> scattered, consecutive(1000), everything(4000);
  for (std::int64_t i = 0; i < 4000; i += 3) scattered.push_back(i);
  scattered.push_back(3999);
  std::iota(consecutive.begin(), consecutive.end(), 1500);
  std::iota(everything.begin(), everything.end(), 0);
  const std::vector<std::vector<std::int64_t>> cases{scattered, consecutive,  everything, {0},
                                                     {3999},    {33, 66, 99}, {}};
  for (const auto& rows : cases) {
    const localsgd::Dataset copy = core::copy_rows(whole.view(), rows);
    localsgd::Dataset kept = whole;
    core::keep_only_rows(kept, rows);
    EXPECT_EQ(kept.row_ptr, copy.row_ptr) << rows.size();
    EXPECT_EQ(kept.index, copy.index) << rows.size();
    EXPECT_EQ(kept.value, copy.value) << rows.size();
    EXPECT_EQ(kept.label, copy.label) << rows.size();
    EXPECT_EQ(kept.cols, whole.cols);
  }
}

}  // namespace
