// Outer Nesterov momentum on the averages (DiLoCo, block momentum): workers average all
// every H steps as usual, but the new global model is an outer SGD step with Nesterov
// momentum on the pseudo-gradient Delta = x_prev - mean of the workers:
//   m <- mu*m + Delta,   x_new = x_prev - lr*(Delta + mu*m).
// lr = 1, mu = 0 is plain averaging. The final average of the run is an outer step too.
// Douillard et al., "DiLoCo: Distributed Low-Communication Training of Language Models", 2023.
// Chen & Huo, "Scalable Training of DNN Acoustic Models with Blockwise Model-Update
// Filtering" (block momentum), ICASSP 2016.
#include <localsgd/sdk.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

class OuterNesterov final : public localsgd::Schedule {
 public:
  explicit OuterNesterov(const localsgd::ParamMap& params)
      : period_(params.positive_integer("H", 8)),
        lr_(params.positive_number("lr", 0.7)),
        momentum_(params.nonnegative_number("momentum", 0.9)) {
    if (!(momentum_ < 1))
      throw localsgd::ParamError("parameter momentum=" + params.text("momentum", "") +
                                 ": must be < 1");
  }

  void start(const localsgd::ScheduleRun&) override { buffer_.clear(); }

  localsgd::SyncEvent next(const localsgd::SyncContext& ctx) override {
    return {ctx.step + period_, 0};
  }
  std::int64_t nominal_period() const override { return period_; }
  localsgd::ScheduleNeeds needs() const override { return {.custom_combine = true}; }

  // The momentum is all the state combine() keeps (empty before the first average).
  std::optional<std::vector<double>> combine_state() const override { return buffer_; }
  void restore_combine_state(std::span<const double> state) override {
    buffer_.assign(state.begin(), state.end());
  }
  bool combine(std::span<const double> previous, std::span<double> mean) override {
    if (buffer_.empty()) buffer_.assign(mean.size(), 0.0);
    if (previous.size() != mean.size() || buffer_.size() != mean.size())
      throw std::logic_error("outer-nesterov: model dimension changed during the run");
    for (std::size_t j = 0; j < mean.size(); ++j) {
      const double delta = previous[j] - mean[j];
      buffer_[j] = momentum_ * buffer_[j] + delta;
      // x_prev - lr*(delta + mu*m), written as a correction of the mean so that lr = 1,
      // mu = 0 gives the mean bit for bit (x_prev - (x_prev - mean) may round).
      mean[j] -= (lr_ - 1.0) * delta + lr_ * momentum_ * buffer_[j];
    }
    return true;
  }

 private:
  std::int64_t period_;
  double lr_, momentum_;
  std::vector<double> buffer_;  // the outer momentum m, one entry per coordinate
};

constexpr localsgd::ParamDoc kParams[] = {
    {"H", "8", "local steps between averages of all workers"},
    {"lr", "0.7", "outer learning rate on Delta = x_prev - mean (1 with momentum 0 = averaging)"},
    {"momentum", "0.9", "outer Nesterov momentum mu, in [0, 1)"},
};

const localsgd::Manifest kManifest = localsgd::schedule_manifest<OuterNesterov>(
    "outer-nesterov", "1.0.0",
    "DiLoCo outer Nesterov step on Delta = x_prev - mean at each average, every H steps", kParams);

}  // namespace

LOCALSGD_PLUGIN(kManifest)
