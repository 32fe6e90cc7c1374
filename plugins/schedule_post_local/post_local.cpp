// Post-local SGD: average after every step until step t0 (a warm-up phase of plain
// parallel mini-batch SGD), then every H steps. The switch is exact: syncs at
// 1, 2, ..., t0, then t0+H, t0+2H, ...
// Lin et al., "Don't Use Large Mini-Batches, Use Local SGD", ICLR 2020.
#include <localsgd/sdk.hpp>

#include <optional>

namespace {

class PostLocal final : public localsgd::Schedule {
 public:
  explicit PostLocal(const localsgd::ParamMap& params) : period_(params.positive_integer("H", 8)) {
    if (params.has("t0")) switch_ = params.nonnegative_integer("t0", 0);
  }

  // Lin et al. switch at the first learning-rate decay, about half-way through their
  // runs; without t0 we switch at T/2 (known only once the run starts).
  void start(const localsgd::ScheduleRun& run) override {
    t0_ = switch_.value_or(run.total_steps / 2);
  }

  // A function of ctx.step alone, so it is right whatever step it is asked at.
  localsgd::SyncEvent next(const localsgd::SyncContext& ctx) override {
    if (ctx.step < t0_) return {ctx.step + 1, 0};
    return {t0_ + ((ctx.step - t0_) / period_ + 1) * period_, 0};
  }
  std::int64_t nominal_period() const override { return period_; }

 private:
  std::int64_t period_;
  std::optional<std::int64_t> switch_;  // t0 as given
  std::int64_t t0_ = 0;                 // t0 of the current run
};

constexpr localsgd::ParamDoc kParams[] = {
    {"t0", "T/2", "average after every step up to step t0 (0 = constant period H from the start)"},
    {"H", "8", "local steps between averages after step t0"},
};

const localsgd::Manifest kManifest = localsgd::schedule_manifest<PostLocal>(
    "post-local", "1.0.0", "post-local SGD: average every step until step t0, then every H steps",
    kParams);

}  // namespace

LOCALSGD_PLUGIN(kManifest)
