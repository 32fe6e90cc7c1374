#include "schedule_driver.hpp"

#include <cmath>
#include <exception>
#include <optional>
#include <string>

#include "localsgd/core/errors.hpp"
#include "localsgd/core/plugins/call_plugin.hpp"

namespace localsgd::core {
namespace {

// F at the average, computed on the first get() only.
class LazyObjective final : public LazyValue {
 public:
  explicit LazyObjective(const std::function<double()>& compute) : compute_(compute) {}
  double get() const override {
    if (!value_) value_ = compute_();
    return *value_;
  }
  const std::optional<double>& value() const { return value_; }

 private:
  const std::function<double()>& compute_;
  mutable std::optional<double> value_;
};

std::string describe(const ScheduleCall& call) {
  std::string where = "step " + std::to_string(call.step) + ", round " + std::to_string(call.round);
  if (call.worker >= 0) where += ", worker " + std::to_string(call.worker);
  return where;
}

}  // namespace

ScheduleDriver::ScheduleDriver(Schedule& schedule, std::string name)
    : schedule_(schedule), name_(std::move(name)) {
  needs_ = call_plugin(PluginKind::schedule, name_, "needs", [&] { return schedule_.needs(); });
}

void ScheduleDriver::require(const RunnerCapabilities& runner) const {
  auto refuse = [&](const char* capability) {
    throw UsageError("schedule '" + name_ + "' needs " + capability + ", which " + runner.runner +
                     " runs cannot provide");
  };
  if (needs_.group_syncs && !runner.group_syncs) refuse("group syncs");
  if (needs_.objective_at_average && !runner.objective_at_average) refuse("F at the average");
  if (needs_.custom_combine && !runner.custom_combine) refuse("a custom combination");
}

void ScheduleDriver::start(const ScheduleRun& run) {
  call_plugin(PluginKind::schedule, name_, "start", [&] { schedule_.start(run); });
}

SyncEvent ScheduleDriver::next(std::int64_t step, std::int64_t round, double step_size,
                               std::int64_t workers, std::int64_t total_steps,
                               const std::function<double()>& objective_at_average,
                               std::int64_t worker) {
  const LazyObjective value(objective_at_average);
  const SyncContext context{step, round, step_size, workers, total_steps, &value, worker};
  const SyncEvent event =
      call_plugin(PluginKind::schedule, name_, "next", [&] { return schedule_.next(context); });
  if (event.step <= step)
    throw PluginError("schedule '" + name_ + "' asked to sync at step " +
                      std::to_string(event.step) + ", which is not after the current step " +
                      std::to_string(step));
  if (event.group_size < 0)
    throw PluginError("schedule '" + name_ + "' returned a negative group size");
  if (event.group_size > 0 && !needs_.group_syncs)
    throw PluginError("schedule '" + name_ + "' returned a group sync but does not declare " +
                      "group_syncs in needs()");
  if (recording_)
    record_.append({step, round, worker, step_size, value.value(), event.step, event.group_size});
  return event;
}

void ScheduleDriver::require_checkpointable() const {
  if (needs_.custom_combine && !combine_state())
    throw UsageError("schedule '" + name_ + "' combines averages its own way and cannot save " +
                     "that state (Schedule::combine_state): --checkpoint and --resume are " +
                     "refused with it");
}

std::optional<std::vector<double>> ScheduleDriver::combine_state() const {
  if (!needs_.custom_combine) return std::vector<double>{};
  return call_plugin(PluginKind::schedule, name_, "combine_state",
                     [&] { return schedule_.combine_state(); });
}

void ScheduleDriver::restore(const ScheduleRecord& calls,
                             const std::optional<std::vector<double>>& combine_state,
                             std::int64_t workers, std::int64_t total_steps) {
  calls.for_each([&](const ScheduleCall& call) {
    const std::function<double()> recorded = [&]() -> double {
      if (!call.objective_at_average)
        throw PluginError("schedule '" + name_ + "' read F at the average on resume (at " +
                          describe(call) + ") where the checkpointed run did not: its " +
                          "answers depend on more than their context, so it cannot resume");
      return *call.objective_at_average;
    };
    const SyncEvent event =
        next(call.step, call.round, call.step_size, workers, total_steps, recorded, call.worker);
    if (event.step != call.answer_step || event.group_size != call.answer_group)
      throw PluginError("schedule '" + name_ + "' answered differently on resume (at " +
                        describe(call) + ": sync at " + std::to_string(event.step) +
                        " instead of " + std::to_string(call.answer_step) +
                        "); its answers depend on more than their context, so it cannot resume");
  });
  if (needs_.custom_combine && combine_state)
    call_plugin(PluginKind::schedule, name_, "restore_combine_state",
                [&] { schedule_.restore_combine_state(*combine_state); });
}

void ScheduleDriver::combine(std::span<const double> previous, std::span<double> mean) {
  if (!call_plugin(PluginKind::schedule, name_, "combine",
                   [&] { return schedule_.combine(previous, mean); }))
    return;
  // Runners rely on the declaration (e.g. sparse syncs skip combine()): an undeclared
  // combination would be applied on some syncs and not on others.
  if (!needs_.custom_combine)
    throw PluginError("schedule '" + name_ + "' replaced the mean in combine() but does not " +
                      "declare custom_combine in needs()");
  for (double v : mean)
    if (!std::isfinite(v))
      throw Diverged(
          "diverged: the schedule's combination has non-finite entries; lower "
          "the step size (--lr, --lr-param)");
}

}  // namespace localsgd::core
