// AdaComm: the first local phase lasts H0 steps; at each sync the next one lasts
//   H = ceil(sqrt(eta0 * F(x_now) / (eta_now * F(x_0))) * H0),  clipped to [1, Hmax],
// with F measured on the averaged model, eta0 the step size of step 0 and eta_now that
// of the last step taken. As in the paper, H shrinks as F decreases (long phases first,
// while the loss is high, then more frequent averaging to reach a lower error floor)
// and grows as the step size decays.
// Wang & Joshi, "Adaptive Communication Strategies to Achieve the Best Error-Runtime
// Trade-off in Local-Update SGD", SysML 2019.
#include <localsgd/sdk.hpp>

#include <cmath>
#include <stdexcept>
#include <string>

namespace {

class AdaComm final : public localsgd::Schedule {
 public:
  explicit AdaComm(const localsgd::ParamMap& params)
      : H0_(params.positive_integer("H0", 8)), Hmax_(params.positive_integer("Hmax", 64)) {
    if (Hmax_ < H0_)
      throw localsgd::ParamError("parameter Hmax=" + std::to_string(Hmax_) +
                                 ": must be >= H0=" + std::to_string(H0_));
  }

  void start(const localsgd::ScheduleRun&) override { started_ = false; }

  localsgd::SyncEvent next(const localsgd::SyncContext& ctx) override {
    if (ctx.objective_at_average == nullptr)
      throw std::logic_error("adacomm needs F at the average, and the engine gave none");
    // F costs a pass over the data, so it is asked for once per sync, here.
    const double F = ctx.objective_at_average->get();
    if (!std::isfinite(F)) throw std::runtime_error("adacomm: F at the average is not finite");
    if (!started_) {  // the first call, at the start of the run: record F(x_0) and eta0
      if (!(F > 0)) throw std::runtime_error("adacomm needs F(x_0) > 0, got " + std::to_string(F));
      F0_ = F;
      eta0_ = ctx.step_size;
      started_ = true;
      return {ctx.step + H0_, 0};
    }
    const double ratio = (eta0_ * F) / (ctx.step_size * F0_);
    double H = std::ceil(std::sqrt(ratio) * static_cast<double>(H0_));
    // Also catches ratio = inf (step size 0) and NaN (negative F or 0/0).
    if (!(H <= static_cast<double>(Hmax_))) H = ratio >= 0 ? static_cast<double>(Hmax_) : 1.0;
    if (H < 1) H = 1;
    return {ctx.step + static_cast<std::int64_t>(H), 0};
  }
  std::int64_t nominal_period() const override { return H0_; }
  localsgd::ScheduleNeeds needs() const override { return {.objective_at_average = true}; }

 private:
  std::int64_t H0_, Hmax_;
  bool started_ = false;
  double F0_ = 0, eta0_ = 0;
};

constexpr localsgd::ParamDoc kParams[] = {
    {"H0", "8", "length of the first local phase; later ones scale it by sqrt(eta0 F/(eta F0))"},
    {"Hmax", "64", "upper bound on a local phase (>= H0); the lower bound is 1"},
};

const localsgd::Manifest kManifest = localsgd::schedule_manifest<AdaComm>(
    "adacomm", "1.0.0",
    "AdaComm: next period ceil(sqrt(eta0*F(x)/(eta*F(x_0)))*H0) in [1, Hmax], F at the average",
    kParams);

}  // namespace

LOCALSGD_PLUGIN(kManifest)
