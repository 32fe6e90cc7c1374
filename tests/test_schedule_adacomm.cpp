// The adacomm schedule: H = ceil(sqrt(eta0 F / (eta F0)) H0) in [1, Hmax] at each sync.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include "test_schedule_support.hpp"

namespace {

namespace core = localsgd::core;
using localsgd::testing::expect_param_error;
using localsgd::testing::make_schedule;
using localsgd::testing::small_request;

// F at the average, as the test sets it; counts how often the schedule asks.
class FakeValue final : public localsgd::LazyValue {
 public:
  double get() const override {
    ++calls;
    return value;
  }
  double value = 0;
  mutable int calls = 0;
};

// The next sync step after `step`, with F = `F` and step size `eta` there.
std::int64_t next(localsgd::Schedule& s, std::int64_t step, double F, double eta,
                  FakeValue& value) {
  value.value = F;
  return s.next({step, 0, eta, 4, 1000, &value}).step;
}

TEST(AdaCommSchedule, FollowsTheRuleExactly) {
  auto s = make_schedule("adacomm", {{"H0", "8"}, {"Hmax", "64"}});
  EXPECT_EQ(s->nominal_period(), 8);
  FakeValue F;
  s->start({1000, 4, 1});
  EXPECT_EQ(next(*s, 0, 16, 0.5, F), 8);  // records F0 = 16, eta0 = 0.5
  EXPECT_EQ(F.calls, 1);
  EXPECT_EQ(next(*s, 8, 4, 0.5, F), 8 + 4);        // sqrt(1/4) * 8
  EXPECT_EQ(next(*s, 12, 1, 0.5, F), 12 + 2);      // sqrt(1/16) * 8
  EXPECT_EQ(next(*s, 14, 1, 0.125, F), 14 + 4);    // sqrt(0.5*1 / (0.125*16)) * 8
  EXPECT_EQ(next(*s, 18, 9, 0.5, F), 18 + 6);      // sqrt(9/16) * 8
  EXPECT_EQ(next(*s, 24, 10, 0.5, F), 24 + 7);     // ceil(sqrt(10/16) * 8) = ceil(6.32)
  EXPECT_EQ(next(*s, 31, 1600, 0.5, F), 31 + 64);  // sqrt(100) * 8 = 80, clipped to Hmax
  EXPECT_EQ(next(*s, 95, 0, 0.5, F), 95 + 1);      // 0, clipped to 1
  EXPECT_EQ(next(*s, 96, 1, 0.0, F), 96 + 64);     // step size 0: infinite ratio
  EXPECT_EQ(F.calls, 9);
}

TEST(AdaCommSchedule, EachRunRecordsItsOwnStart) {
  auto s = make_schedule("adacomm", {{"H0", "4"}, {"Hmax", "4"}});
  FakeValue F;
  s->start({100, 4, 1});
  EXPECT_EQ(next(*s, 0, 16, 0.5, F), 4);
  EXPECT_EQ(next(*s, 4, 1, 0.5, F), 5);  // sqrt(1/16) * 4
  s->start({100, 4, 1});
  EXPECT_EQ(next(*s, 0, 1, 0.5, F), 4);  // F0 = 1 now
  EXPECT_EQ(next(*s, 4, 1, 0.5, F), 8);
}

TEST(AdaCommSchedule, RefusesAnObjectiveItCannotScale) {
  auto s = make_schedule("adacomm");
  FakeValue F;
  s->start({100, 4, 1});
  EXPECT_THROW(next(*s, 0, 0, 0.5, F), std::runtime_error);
  EXPECT_THROW(s->next({0, 0, 0.5, 4, 100, nullptr}), std::logic_error);
}

TEST(AdaCommSchedule, RejectsBadParameters) {
  expect_param_error([] { make_schedule("adacomm", {{"H0", "0"}}); }, "H0");
  expect_param_error([] { make_schedule("adacomm", {{"Hmax", "-3"}}); }, "Hmax");
  expect_param_error([] { make_schedule("adacomm", {{"H0", "16"}, {"Hmax", "8"}}); }, "Hmax");
}

TEST(AdaCommSchedule, ReplaysFromTheEnginesObjectiveAtTheAverage) {
  // With a constant step size the rule reads H = ceil(sqrt(F/F0) H0). Progress events at
  // every step report F at the mean of the workers (objective_last) and the rounds so
  // far, so the sync steps can be replayed from them; evaluation does not change a run.
  auto request = small_request("adacomm", {{"H0", "16"}, {"Hmax", "64"}});
  request.steps = 200;
  request.lr = core::StepRule::constant;
  request.lr_params.set("eta", "2");
  request.eval_every = 1;
  std::map<std::int64_t, double> F;  // step -> F at the average after that step
  std::vector<std::int64_t> syncs;
  std::int64_t rounds = 0;
  const auto run = core::train(request, [&](const nlohmann::ordered_json& e) {
    const std::int64_t step = e["step"];
    F[step] = e["objective_last"];
    if (e["rounds"].get<std::int64_t>() > rounds && step < 200) syncs.push_back(step);
    rounds = e["rounds"];
  });
  const double F0 = std::log(2.0);  // logistic loss at x_0 = 0
  std::vector<std::int64_t> expected;
  for (std::int64_t s = 16; s < 200;) {
    expected.push_back(s);
    s += std::clamp<std::int64_t>(static_cast<std::int64_t>(std::ceil(std::sqrt(F[s] / F0) * 16)),
                                  1, 64);
  }
  EXPECT_EQ(syncs, expected);
  EXPECT_GT(expected.size(), 200u / 16) << "phases shrink as F falls";
  EXPECT_EQ(run.json()["local_steps"], 16);
}

}  // namespace
