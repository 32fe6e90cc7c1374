// The fair baseline at equal communication: mini-batch SGD that takes one step of batch
// H·b per worker (K·H·b samples) and averages after every step. Over T samples-steps it
// makes ceil(T/H) steps and as many rounds: the same samples and rounds as Local SGD
// with period H, so comparing the two isolates the effect of local steps.
// Woodworth et al., "Is Local SGD Better than Minibatch SGD?", ICML 2020.
#include <localsgd/sdk.hpp>

namespace {

class Minibatch final : public localsgd::Schedule {
 public:
  explicit Minibatch(const localsgd::ParamMap& params)
      : multiplier_(params.positive_integer("H", 8)) {}

  // The engine multiplies the batch and divides the steps; every (big) step is a round.
  localsgd::SyncEvent next(const localsgd::SyncContext& ctx) override { return {ctx.step + 1, 0}; }
  std::int64_t nominal_period() const override { return 1; }
  std::int64_t batch_multiplier() const override { return multiplier_; }

 private:
  std::int64_t multiplier_;
};

constexpr localsgd::ParamDoc kParams[] = {
    {"H", "8",
     "batch multiplier: ceil(T/H) steps of batch H*b, averaging after each (the Local SGD "
     "period it matches)"},
};

const localsgd::Manifest kManifest = localsgd::schedule_manifest<Minibatch>(
    "minibatch", "1.0.0",
    "mini-batch SGD baseline at Local SGD's samples and rounds: batch H*b, average every step",
    kParams);

}  // namespace

LOCALSGD_PLUGIN(kManifest)
