// The constant averaging schedule: its sync steps and parameters.
#include <gtest/gtest.h>

#include "localsgd/core/plugins/plugins.hpp"

namespace {

std::unique_ptr<localsgd::Schedule> constant(const std::string& H = "") {
  localsgd::ParamMap p;
  if (!H.empty()) p.set("H", H);
  const auto& m = localsgd::core::load_plugin("constant", localsgd::PluginKind::schedule);
  return localsgd::core::make_schedule(m, p);
}

std::vector<std::int64_t> sync_steps(localsgd::Schedule& s, std::int64_t T) {
  s.start({T, 4, 1});
  std::vector<std::int64_t> steps;
  std::int64_t t = 0;
  while (true) {
    const auto e = s.next({t, static_cast<std::int64_t>(steps.size()), 0.1, 4, T, nullptr});
    EXPECT_EQ(e.group_size, 0);
    if (e.step > T) break;
    steps.push_back(e.step);
    t = e.step;
  }
  return steps;
}

TEST(ConstantSchedule, SyncsEveryHSteps) {
  auto s = constant("3");
  EXPECT_EQ(sync_steps(*s, 10), (std::vector<std::int64_t>{3, 6, 9}));
  EXPECT_EQ(s->nominal_period(), 3);
}

TEST(ConstantSchedule, HOneIsEveryStepAndLargeHIsOneShot) {
  EXPECT_EQ(sync_steps(*constant("1"), 4), (std::vector<std::int64_t>{1, 2, 3, 4}));
  EXPECT_TRUE(sync_steps(*constant("100"), 50).empty());
}

TEST(ConstantSchedule, DefaultsToEightAndRejectsBadH) {
  EXPECT_EQ(constant()->nominal_period(), 8);
  EXPECT_THROW(constant("0"), localsgd::ParamError);
  EXPECT_THROW(constant("2.5"), localsgd::ParamError);
}

}  // namespace
