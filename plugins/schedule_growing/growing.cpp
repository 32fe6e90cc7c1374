// Growing periods: the j-th local phase (j = 0, 1, ...) lasts
//   tau_j = max(1, round(tau0 * (1 + alpha * j)))
// steps, so syncs happen at tau_0, tau_0 + tau_1, ... Early, frequent averaging keeps
// workers together while the iterates move fast; later phases can be long.
// Haddadpour et al., "Local SGD with Periodic Averaging: Tighter Analysis and Adaptive
// Synchronization", NeurIPS 2019.
#include <localsgd/sdk.hpp>

#include <algorithm>
#include <cmath>

namespace {

class Growing final : public localsgd::Schedule {
 public:
  explicit Growing(const localsgd::ParamMap& params)
      : tau0_(params.positive_integer("tau0", 1)), alpha_(params.nonnegative_number("alpha", 1)) {}

  // The answer depends on ctx.step only: a cursor walks the sync steps and restarts from
  // 0 if asked about an earlier step, so a run costs O(syncs) in all.
  localsgd::SyncEvent next(const localsgd::SyncContext& ctx) override {
    if (ctx.step < cursor_step_) cursor_step_ = cursor_phase_ = 0;
    while (cursor_step_ <= ctx.step) cursor_step_ += period(cursor_phase_++);
    return {cursor_step_, 0};
  }
  std::int64_t nominal_period() const override { return tau0_; }

 private:
  std::int64_t period(std::int64_t j) const {
    const double tau =
        std::round(static_cast<double>(tau0_) * (1.0 + alpha_ * static_cast<double>(j)));
    // Capped far below int64 overflow: a step past any T just means "no more syncs".
    return static_cast<std::int64_t>(std::clamp(tau, 1.0, 0x1p61));
  }

  std::int64_t tau0_;
  double alpha_;
  std::int64_t cursor_step_ = 0;   // the sync step that ends phase cursor_phase_ - 1
  std::int64_t cursor_phase_ = 0;  // phases before cursor_step_
};

constexpr localsgd::ParamDoc kParams[] = {
    {"tau0", "1", "length of the first local phase, in steps"},
    {"alpha", "1", "growth per phase (>= 0): phase j lasts round(tau0*(1 + alpha*j)) steps"},
};

const localsgd::Manifest kManifest = localsgd::schedule_manifest<Growing>(
    "growing", "1.0.0", "growing periods: phase j lasts round(tau0*(1 + alpha*j)) local steps",
    kParams);

}  // namespace

LOCALSGD_PLUGIN(kManifest)
