// Averaging schedule plugins: decide *when* workers average, *who* takes part, and
// optionally *how* the average is combined into the new model.
//
// The engine asks for the next sync event at the start of a run and after every sync,
// so workers can run their local steps without consulting the schedule each step.
// A sync "at step s" happens after the s-th step: x_s^k is replaced by the average of
// the workers' v^k (README "What a run computes"). Example: every H steps is next(ctx) = ctx.step +
// H.
#pragma once

#include "localsgd/language.hpp"  // first: C++20 or one clear error

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "localsgd/abi.hpp"
#include "localsgd/params.hpp"

namespace localsgd {

struct ScheduleRun {
  std::int64_t total_steps;  // T
  std::int64_t workers;      // K
  std::int64_t batch;        // b
};

// F at the current average, computed only if asked (it costs a pass over the data).
class LOCALSGD_API LazyValue {
 public:
  virtual ~LazyValue() = default;
  virtual double get() const = 0;
};

// The runner calls start() and next() from one thread at a time, never concurrently.
// In an asynchronous run (worker >= 0) each worker asks on its own clock: `step` is that
// worker's step count and `round` the number of averages it has taken part in; a
// stateful schedule sees the workers' calls interleaved in simulated-time order.
struct SyncContext {
  std::int64_t step;         // steps taken so far (0 at the start of the run)
  std::int64_t round;        // sync rounds so far
  double step_size;          // step size of the last step taken (of step 0 at the start)
  std::int64_t workers;      // K
  std::int64_t total_steps;  // T
  const LazyValue* objective_at_average;  // F(mean of workers' models) at this boundary
  std::int64_t worker = -1;  // -1: synchronous run (all workers share the clock `step`)
};

// What a schedule asks of the runner beyond "average all workers at these steps". The
// runner checks it before the run: one that cannot provide a capability (e.g. group
// syncs in an asynchronous run) refuses the combination with a usage error naming the
// schedule and the capability, instead of running something else. Declare honestly: a
// group sync from a schedule that did not declare `group_syncs` stops the run with a
// plugin error.
struct ScheduleNeeds {
  bool group_syncs = false;           // next() may return group_size > 0
  bool objective_at_average = false;  // next() reads ctx.objective_at_average
  bool custom_combine = false;        // combine() may replace the plain mean
};

struct SyncEvent {
  std::int64_t step;            // sync after this many steps; must be > the context's step
  std::int64_t group_size = 0;  // 0: all workers; g: consecutive groups of g workers each
};

class LOCALSGD_API Schedule {
 public:
  virtual ~Schedule() = default;

  virtual void start(const ScheduleRun& run) { (void)run; }

  // The next sync event after ctx.step. Steps past total_steps mean "no more syncs";
  // the engine always averages at the end of the run to produce x̄_T.
  virtual SyncEvent next(const SyncContext& ctx) = 0;

  // The nominal period H, used as the default shift a of the weighted output average.
  virtual std::int64_t nominal_period() const = 0;

  // The capabilities this schedule needs from the runner (see ScheduleNeeds).
  virtual ScheduleNeeds needs() const { return {}; }

  // Mini-batch SGD at equal samples and rounds (Woodworth et al.): a schedule that returns
  // m > 1 makes the run take ceil(T/m) steps of batch m·b per worker instead of T steps
  // of batch b. Local SGD schedules keep the default 1.
  virtual std::int64_t batch_multiplier() const { return 1; }

  // Called with the previous global model and the plain mean of the participating
  // workers (all workers only). In an asynchronous run it is called once per batch of
  // arrivals, with the previous server model and the mean of the latest models of all
  // workers (some of them stale). Return false to keep the plain mean; return true after
  // overwriting `mean` with another combination (e.g. an outer Nesterov step).
  virtual bool combine(std::span<const double> previous, std::span<double> mean) {
    (void)previous;
    (void)mean;
    return false;
  }

  // Checkpoints (--checkpoint, --resume). On resume the engine calls start() and replays
  // every next() of the run so far with the same contexts (and the same F at the average
  // where it was read), so state that start() and next() build needs nothing here. What
  // combine() keeps from one call to the next (e.g. an outer momentum) cannot be
  // replayed: a schedule that declares custom_combine returns that state here (an empty
  // vector if it keeps none) and gets it back through restore_combine_state() before the
  // run goes on. The default, nullopt, means "cannot be saved": checkpoints of runs with
  // such a schedule are refused before the run starts.
  virtual std::optional<std::vector<double>> combine_state() const { return std::nullopt; }
  virtual void restore_combine_state(std::span<const double> state) { (void)state; }
};

}  // namespace localsgd
