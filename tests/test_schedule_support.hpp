// Helpers shared by the schedule plugin tests: load a schedule by name and drive next()
// through a run as the engine does. (expect_param_error is in test_support.hpp.)
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "localsgd/core/plugins/plugins.hpp"
#include "localsgd/core/run/train.hpp"
#include "test_support.hpp"

namespace localsgd::testing {

inline std::unique_ptr<Schedule> make_schedule(const std::string& name,
                                               std::map<std::string, std::string> params = {}) {
  const auto& m = core::load_plugin(name, PluginKind::schedule);
  return core::make_schedule(m, ParamMap(std::move(params)));
}

// The sync events of a synchronous run of T steps with K workers: next() at step 0 and
// after every sync, until it answers a step past T.
inline std::vector<SyncEvent> sync_events(Schedule& s, std::int64_t T, std::int64_t K = 4) {
  s.start({T, K, 1});
  std::vector<SyncEvent> events;
  std::int64_t t = 0;
  while (true) {
    const auto e = s.next({t, static_cast<std::int64_t>(events.size()), 0.1, K, T, nullptr});
    EXPECT_GT(e.step, t);
    if (e.step <= t || e.step > T) break;
    events.push_back(e);
    t = e.step;
  }
  return events;
}

inline std::vector<std::int64_t> sync_steps(Schedule& s, std::int64_t T) {
  std::vector<std::int64_t> steps;
  for (const SyncEvent& e : sync_events(s, T)) {
    EXPECT_EQ(e.group_size, 0) << "at step " << e.step;
    steps.push_back(e.step);
  }
  return steps;
}

// A small, fast training run on the embedded synthetic data.
inline core::TrainOptions small_request(const std::string& schedule,
                                        std::map<std::string, std::string> params) {
  core::TrainOptions r;
  r.objective.name = "logreg";
  r.reader.params.set("n", "500");
  r.schedule.name = schedule;
  r.schedule.params = ParamMap(std::move(params));
  r.workers = 4;
  r.batch = 3;
  r.steps = 64;
  r.seed = 7;
  return r;
}

// x_hat and x_last of the two runs agree bit for bit.
inline ::testing::AssertionResult same_models(const core::TrainOutcome& a,
                                              const core::TrainOutcome& b) {
  if (!bitwise_equal(a.result.x_hat, b.result.x_hat))
    return ::testing::AssertionFailure() << "x_hat differs";
  if (!bitwise_equal(a.result.x_last, b.result.x_last))
    return ::testing::AssertionFailure() << "x_last differs";
  return ::testing::AssertionSuccess();
}

}  // namespace localsgd::testing
