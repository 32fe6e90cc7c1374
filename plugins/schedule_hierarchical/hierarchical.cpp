// Hierarchical averaging: consecutive groups of g workers (0..g-1, g..2g-1, ...; the last
// group is smaller when g does not divide K) average every H1 steps, and all workers
// every H2 steps, a multiple of H1, where the global average replaces the group one.
// Cheap, frequent averaging within a node or rack; rare, costly averaging across them.
// PyTorch's HierarchicalModelAverager (torch.distributed.algorithms.model_averaging).
#include <localsgd/sdk.hpp>

#include <string>

namespace {

class Hierarchical final : public localsgd::Schedule {
 public:
  explicit Hierarchical(const localsgd::ParamMap& params)
      : group_(params.positive_integer("group", 2)),
        H1_(params.positive_integer("H1", 4)),
        H2_(params.positive_integer("H2", 16)) {
    if (H2_ % H1_ != 0)
      throw localsgd::ParamError("parameter H2=" + std::to_string(H2_) +
                                 ": must be a multiple of H1=" + std::to_string(H1_));
  }

  localsgd::SyncEvent next(const localsgd::SyncContext& ctx) override {
    // Groups of one worker have nothing to average: skip their (empty) rounds, so the
    // run is the constant schedule with period H2.
    const std::int64_t period = group_ == 1 ? H2_ : H1_;
    const std::int64_t step = (ctx.step / period + 1) * period;
    return {step, step % H2_ == 0 ? 0 : group_};
  }
  std::int64_t nominal_period() const override { return H1_; }
  localsgd::ScheduleNeeds needs() const override { return {.group_syncs = true}; }

 private:
  std::int64_t group_, H1_, H2_;
};

constexpr localsgd::ParamDoc kParams[] = {
    {"group", "2", "workers per group: groups of consecutive workers (the last may be smaller)"},
    {"H1", "4", "local steps between group averages"},
    {"H2", "16", "local steps between averages of all workers (a multiple of H1)"},
};

const localsgd::Manifest kManifest = localsgd::schedule_manifest<Hierarchical>(
    "hierarchical", "1.0.0",
    "hierarchical averaging: groups of g workers every H1 steps, all workers every H2 steps",
    kParams);

}  // namespace

LOCALSGD_PLUGIN(kManifest)
