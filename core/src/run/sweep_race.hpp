// Early abandon in a sweep's step-size tuning: the runs of a setting that can no longer
// win its grid point stop instead of running to the budget.
//
// A point's winner is the setting with the fewest median steps to EPS over its R seeds.
// Once some setting of the point has finished all its runs, its median M bounds the
// winner's. A run seen past M (or ended without reaching EPS) is "behind"; when a
// majority of a setting's runs (R/2 + 1) are behind, both middle values of its R
// results exceed M, so its median does too and it cannot win: its remaining runs stop.
// The winner itself never has a majority behind (its median is <= M), so its runs always
// finish and the table — winner, steps, rounds, reached — is exactly that of a sweep
// without abandon; only the losers' runs are cut short. The one exception kept out:
// when no setting reaches EPS the first setting is reported, so its runs are not
// abandoned while M is still infinite.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <vector>

namespace localsgd::core {

class SweepRace {
 public:
  SweepRace(std::size_t points, std::size_t settings, std::int64_t repeats)
      : settings_(settings),
        repeats_(repeats),
        majority_(repeats / 2 + 1),
        bound_(points, std::numeric_limits<double>::infinity()),
        state_(points * settings) {}

  // The best median of the point's finished settings so far (infinity before one).
  double bound(std::size_t point) const {
    const std::lock_guard lock(mutex_);
    return bound_[point];
  }

  // One run of (point, setting) is behind: past the bound, or ended without EPS.
  void behind(std::size_t point, std::size_t setting) {
    const std::lock_guard lock(mutex_);
    ++state_[point * settings_ + setting].behind;
  }

  // Whether the setting has certainly lost its point, so its runs may stop.
  bool lost(std::size_t point, std::size_t setting) const {
    const std::lock_guard lock(mutex_);
    const bool bounded = bound_[point] < std::numeric_limits<double>::infinity();
    return state_[point * settings_ + setting].behind >= majority_ && (setting != 0 || bounded);
  }

  // A run finished with `steps` to EPS (infinity if not reached or abandoned); when the
  // setting's last run is in, its median may lower the point's bound.
  void finished(std::size_t point, std::size_t setting, double steps) {
    const std::lock_guard lock(mutex_);
    Setting& s = state_[point * settings_ + setting];
    s.steps.push_back(steps);
    if (static_cast<std::int64_t>(s.steps.size()) < repeats_) return;
    std::sort(s.steps.begin(), s.steps.end());
    const std::size_t m = s.steps.size() / 2;
    const double median = s.steps.size() % 2 ? s.steps[m] : 0.5 * (s.steps[m - 1] + s.steps[m]);
    bound_[point] = std::min(bound_[point], median);
  }

 private:
  struct Setting {
    std::int64_t behind = 0;
    std::vector<double> steps;
  };
  const std::size_t settings_;
  const std::int64_t repeats_, majority_;
  mutable std::mutex mutex_;
  std::vector<double> bound_;
  std::vector<Setting> state_;
};

}  // namespace localsgd::core
