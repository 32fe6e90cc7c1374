// The hierarchical schedule: groups of g workers every H1 steps, everyone every H2.
#include <gtest/gtest.h>

#include <cmath>

#include "test_schedule_support.hpp"

namespace {

namespace core = localsgd::core;
using localsgd::testing::expect_param_error;
using localsgd::testing::make_schedule;
using localsgd::testing::same_models;
using localsgd::testing::small_request;
using localsgd::testing::sync_events;

std::vector<std::pair<std::int64_t, std::int64_t>> steps_and_groups(localsgd::Schedule& s,
                                                                    std::int64_t T) {
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  for (const auto& e : sync_events(s, T)) out.emplace_back(e.step, e.group_size);
  return out;
}

TEST(HierarchicalSchedule, GroupsEveryH1AndEveryoneEveryH2) {
  auto s = make_schedule("hierarchical", {{"group", "2"}, {"H1", "2"}, {"H2", "6"}});
  EXPECT_EQ(steps_and_groups(*s, 13), (std::vector<std::pair<std::int64_t, std::int64_t>>{
                                          {2, 2}, {4, 2}, {6, 0}, {8, 2}, {10, 2}, {12, 0}}));
  EXPECT_EQ(s->nominal_period(), 2);
}

TEST(HierarchicalSchedule, DefaultsAndGroupsOfOne) {
  auto s = make_schedule("hierarchical");
  EXPECT_EQ(steps_and_groups(*s, 16),
            (std::vector<std::pair<std::int64_t, std::int64_t>>{{4, 2}, {8, 2}, {12, 2}, {16, 0}}));
  // A group of one has nothing to average: only the global syncs remain.
  auto single = make_schedule("hierarchical", {{"group", "1"}, {"H1", "2"}, {"H2", "6"}});
  EXPECT_EQ(steps_and_groups(*single, 13),
            (std::vector<std::pair<std::int64_t, std::int64_t>>{{6, 0}, {12, 0}}));
}

TEST(HierarchicalSchedule, RejectsBadParameters) {
  expect_param_error([] { make_schedule("hierarchical", {{"H1", "4"}, {"H2", "10"}}); }, "H2");
  expect_param_error([] { make_schedule("hierarchical", {{"group", "0"}}); }, "group");
  expect_param_error([] { make_schedule("hierarchical", {{"H1", "0"}}); }, "H1");
}

// Exact equivalences with the constant schedule on K = 4 workers (same seed, data, step
// sizes and output weights): one group of all K workers makes every sync global, so the
// run is constant H1; groups of one average nothing, so it is constant H2. A wrong step
// for either kind of sync breaks one of the two.
core::TrainOutcome run(const std::string& schedule, std::map<std::string, std::string> params) {
  auto request = small_request(schedule, std::move(params));
  request.avg_shift = 8.0;  // the nominal periods differ
  return core::train(request);
}

TEST(HierarchicalSchedule, OneGroupOfAllWorkersIsConstantH1) {
  const auto h = run("hierarchical", {{"group", "4"}, {"H1", "4"}, {"H2", "12"}});
  const auto c = run("constant", {{"H", "4"}});
  EXPECT_TRUE(same_models(h, c));
  EXPECT_EQ(h.json()["rounds"], c.json()["rounds"]);
}

TEST(HierarchicalSchedule, GroupsOfOneAreConstantH2) {
  const auto h = run("hierarchical", {{"group", "1"}, {"H1", "4"}, {"H2", "12"}});
  const auto c = run("constant", {{"H", "12"}});
  EXPECT_TRUE(same_models(h, c));
  EXPECT_EQ(h.json()["rounds"], c.json()["rounds"]);
}

TEST(HierarchicalSchedule, TwoGroupsAreNeither) {
  const auto h = run("hierarchical", {{"group", "2"}, {"H1", "4"}, {"H2", "12"}});
  EXPECT_EQ(h.json()["rounds"], 64 / 4);  // 16 syncs, the last at T
  EXPECT_FALSE(same_models(h, run("constant", {{"H", "4"}})));
  EXPECT_FALSE(same_models(h, run("constant", {{"H", "12"}})));
  const double f = h.json()["objective"];
  EXPECT_TRUE(std::isfinite(f));
}

}  // namespace
