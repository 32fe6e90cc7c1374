// The one place where a run talks to its averaging schedule. Every runner (synchronous,
// asynchronous, and a multi-process one) goes through it, so the schedule contract of
// sdk/include/localsgd/schedule.hpp is implemented once:
//  * before the run, the schedule's needs are checked against what the runner can do,
//    and an impossible combination is refused as a usage error that names both;
//  * each question builds the SyncContext, with F at the average offered lazily, and
//    each answer is checked (a step that does not advance, an undeclared group sync);
//  * the schedule's own combination of the mean (e.g. an outer Nesterov step) is applied
//    here and checked for divergence;
//  * for checkpoints it records every question and answer, and on resume replays them
//    to a fresh schedule (schedule.hpp: state built by next() needs no saving).
// Exceptions thrown by the plugin become PluginErrors that name it.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "localsgd/core/engine/engine_state.hpp"
#include "localsgd/sdk.hpp"

namespace localsgd::core {

// What a runner can give a schedule.
struct RunnerCapabilities {
  const char* runner;  // for messages, e.g. "--async"
  bool group_syncs = true;
  bool objective_at_average = true;
  bool custom_combine = true;
};

class ScheduleDriver {
 public:
  ScheduleDriver(Schedule& schedule, std::string name);

  // Throws UsageError when the schedule needs something the runner lacks.
  void require(const RunnerCapabilities& runner) const;

  void start(const ScheduleRun& run);

  // The next sync after `step`. `objective_at_average` computes F at the current average;
  // it is called at most once, and only if the schedule asks. `worker` is -1 in a
  // synchronous run, else the asking worker (then `step` and `round` are its own).
  SyncEvent next(std::int64_t step, std::int64_t round, double step_size, std::int64_t workers,
                 std::int64_t total_steps, const std::function<double()>& objective_at_average,
                 std::int64_t worker = -1);

  // Replaces `mean` (of all workers) by the schedule's combination with `previous`, if
  // it has one. Throws Diverged if the result has non-finite entries.
  void combine(std::span<const double> previous, std::span<double> mean);

  const std::string& name() const { return name_; }
  const ScheduleNeeds& needs() const { return needs_; }

  // Checkpoints. record() keeps every next() question from now on; state() is what a
  // checkpoint stores; restore() replays a checkpoint's questions after start() and
  // gives combine() its state back. A schedule whose answers differ on replay, or whose
  // combination state cannot be saved, is refused with a message naming it.
  void record() { recording_ = true; }
  void require_checkpointable() const;
  const ScheduleRecord& recorded() const { return record_; }
  std::optional<std::vector<double>> combine_state() const;
  void restore(const ScheduleRecord& calls, const std::optional<std::vector<double>>& combine_state,
               std::int64_t workers, std::int64_t total_steps);

 private:
  Schedule& schedule_;
  const std::string name_;
  ScheduleNeeds needs_;
  bool recording_ = false;
  ScheduleRecord record_;
};

}  // namespace localsgd::core
