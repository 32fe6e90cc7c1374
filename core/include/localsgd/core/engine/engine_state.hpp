// The whole state of a run at a step boundary: what a checkpoint holds and a resumed run
// starts from. Plain data, filled and read by the engine only; core/io/checkpoint_file
// stores it. A run resumed from it continues bit for bit as the uninterrupted run would
// have: every worker's internal representation is kept as is (for the sparse path the
// scale s, the lazy weighted sum u + c·v, the coordinates touched since the last sync),
// sample streams are functions of (seed, worker, step) and need nothing, and the
// schedule is brought back by replaying its calls (ScheduleRecord) plus the state its
// combine() keeps.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "localsgd/core/engine/schedule_record.hpp"

namespace localsgd::core {

struct WorkerState {
  std::vector<double> reals;          // the worker's arrays and scalars, in its own layout
  std::vector<std::int64_t> touched;  // sparse syncs: coordinates changed since the last one
  std::int64_t pending = -1;          // index in EngineState::pending of the model it adopts next
};

// The asynchronous runner's clock of one worker.
struct AsyncClock {
  std::int64_t step = 0, executed = 0, phase_end = 0, round = 0;
  double phase_end_time = 0, ready_time = 0;
  bool running = false, waiting = false, finished = false;
};

struct EngineState {
  bool async = false;
  bool margin = false;                       // which worker kind wrote `workers`
  bool tracked = true;                       // workers list touched coordinates (sparse syncs)
  std::int64_t step = 0;                     // steps taken (async: the workers' mean step count)
  std::int64_t rounds = 0;                   // syncs so far
  std::int64_t next_evaluation = 0;          // the monitor's next step
  std::int64_t first_phase = 0;              // the run's first phase, which chose its thread count
  std::vector<double> global;                // the last model all workers agreed on
  std::vector<std::vector<double>> pending;  // models handed out at the last sync
  std::vector<WorkerState> workers;
  ScheduleRecord schedule_record;
  std::optional<std::vector<double>> combine_state;
  // Synchronous runs.
  bool last_sync_was_global = true;
  bool global_stale = false;
  // Asynchronous runs.
  std::vector<AsyncClock> clocks;
  std::vector<std::vector<double>> latest;  // the server's latest model of every worker
  std::int64_t max_staleness = 0, staleness_sum = 0, staleness_count = 0;
};

}  // namespace localsgd::core
