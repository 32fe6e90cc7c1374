// Periodic averaging: all workers average every H steps (the sync set I_T = {H, 2H, ...}).
// H = 1 is parallel mini-batch SGD; H >= T is one-shot averaging at the end.
#include <localsgd/sdk.hpp>

namespace {

class ConstantPeriod final : public localsgd::Schedule {
 public:
  explicit ConstantPeriod(const localsgd::ParamMap& params)
      : period_(params.positive_integer("H", 8)) {}

  localsgd::SyncEvent next(const localsgd::SyncContext& ctx) override {
    return {ctx.step + period_, 0};
  }
  std::int64_t nominal_period() const override { return period_; }

 private:
  std::int64_t period_;
};

constexpr localsgd::ParamDoc kParams[] = {
    {"H", "8", "local steps between averages (1 = parallel SGD, >= T = one-shot averaging)"},
};

const localsgd::Manifest kManifest = localsgd::schedule_manifest<ConstantPeriod>(
    "constant", "1.0.0", "average all workers every H steps", kParams);

}  // namespace

LOCALSGD_PLUGIN(kManifest)
