// The Local SGD engine: Algorithm 1 of Stich (2019), exactly (README "What a run computes").
//
// K logical workers start from x_0 (the objective's initial point). At each step
// t = 0..T-1 every worker draws b indices i.i.d. from the data and takes an SGD step;
// after step t, if the schedule says t+1 is a sync step, the participating workers are
// replaced by their average (or the schedule's own combination). The run always ends
// with an average, x̄_T. It also returns the theorem's output
//     x̂_T = 1/(K S_T) sum_k sum_{t=0}^{T-1} w_t x_t^k,   w_t = (a+t)^2,  S_T = sum_t w_t.
//
// Generalised-linear objectives take the sparse path: x = s·v with the L2 decay folded
// into the scalar s, and the weighted sum kept lazily as u + c·v, so a step costs
// O(nnz of its batch) at any dimension. Other objectives take dense steps.
//
// Results depend on (seed, K) only: each worker's sample stream is a function of
// (seed, worker, step), and averages are summed over workers in a fixed order.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "localsgd/core/engine/engine_state.hpp"
#include "localsgd/core/engine/evaluation.hpp"
#include "localsgd/core/engine/sampling.hpp"
#include "localsgd/core/engine/step_size.hpp"
#include "localsgd/sdk.hpp"

namespace localsgd::core {

class Communicator;  // the processes of a run (core/src/engine/communicator.hpp)

struct EngineConfig {
  std::int64_t workers = 1;  // K
  std::int64_t batch = 1;    // b
  std::int64_t steps = 1;    // T, steps per worker
  std::uint64_t seed = 1;
  int threads = 0;  // concurrency cap; 0 = all cores
  // Use exactly `threads` threads for the workers' phases (benchmarks, tests); otherwise
  // the engine picks up to `threads` from the work a round holds.
  bool exact_threads = false;
  std::string schedule_name = "schedule";  // for messages
  double avg_shift = 0;                    // a in w_t = (a+t)^2
  std::vector<double> initial_model;       // x_0 for every worker; empty: objective.initial_point
  // Rows each worker samples from (see partition.hpp); empty: all rows for every worker.
  std::vector<std::vector<std::int64_t>> partition;
  // This process's share of all rows when the rows are spread over the processes (each
  // holds its workers' rows only): f for a schedule is then the sum of the processes'
  // shares. 0: this process holds every row.
  double row_share = 0;
  Sampling sampling = Sampling::iid;  // with replacement (the paper) or shuffled passes
  // Asynchronous Local SGD in simulated time (see core/src/engine/async_runner.hpp).
  struct Async {
    bool enabled = false;
    std::vector<double> speeds;  // local steps per time unit, one per worker
    std::int64_t max_staleness = std::numeric_limits<std::int64_t>::max();  // in rounds
  } async;
  // The processes that share the K workers (MPI ranks); null: this process runs them all.
  Communicator* communicator = nullptr;
  // Checkpoints and interruption (--checkpoint, --resume, SIGINT/SIGTERM). One process
  // only: a multi-process run is refused before it gets here.
  struct Checkpoints {
    std::int64_t every = 0;    // save every this many steps (0: never)
    double every_seconds = 0;  // and at the first boundary this long after a save (0: never)
    std::function<void(const EngineState&)> save;  // at those steps and when interrupted
    const EngineState* resume = nullptr;           // start from this state, not from x_0
    // Polled at step boundaries, at least every kInterruptPoll steps: a non-zero value
    // ends the run there, after a save, as a monitor's stop would.
    const std::atomic<int>* interrupt = nullptr;
  } checkpoints;
  // When set, the steps taken so far (the mean over workers in an asynchronous run), stored
  // at every phase boundary (at least every kInterruptPoll steps while `interrupt` is
  // watched) and at the end: what a progress bar reads from another thread.
  std::atomic<std::int64_t>* steps_done = nullptr;
};

// Steps between two looks at EngineConfig::Checkpoints::interrupt (a phase boundary
// costs the threads a hand-over; a run is the same with or without them).
inline constexpr std::int64_t kInterruptPoll = 1024;

// What a monitor sees at an evaluation step (after that step's sync, if any).
struct Snapshot {
  std::int64_t step;                 // steps taken
  std::int64_t rounds;               // syncs so far
  const std::vector<double>& x_hat;  // the weighted average of the iterates of steps < step
  const std::vector<double>& x_bar;  // the mean of the workers' models now
};

// Observes a run at steps of its choosing, e.g. to log progress or stop at a target.
// Evaluation only reads the workers' state: a run is bitwise the same with or without it.
class Monitor {
 public:
  virtual ~Monitor() = default;
  // The first step after `step` at which to evaluate (> T for none).
  virtual std::int64_t next_evaluation(std::int64_t step) const = 0;
  // Return true to end the run at this step (it still ends with an average).
  virtual bool evaluate(const Snapshot& snapshot) = 0;
};

struct EngineResult {
  std::vector<double> x_hat;       // the theorem's weighted average
  std::vector<double> x_last;      // x̄_T
  std::int64_t steps = 0;          // steps taken (T, or fewer when a monitor stopped the run)
  std::int64_t rounds = 0;         // sync events, including the final average
  std::int64_t grad_evals = 0;     // stochastic gradients, K·T·b
  double seconds = 0;              // wall time of the training loop
  double sync_seconds = 0;         // of which averaging and schedule questions
  double eval_seconds = 0;         // of which evaluations for the monitor
  int threads = 1;                 // threads that ran the workers' phases
  std::int64_t max_staleness = 0;  // async: largest lead over the slowest worker at an average
  double mean_staleness = 0;
  int interrupted = 0;  // the value of Checkpoints::interrupt that ended the run, or 0
};

// Throws RuntimeFailure if the iterates diverge or the step size makes the lazy
// regulariser decay (1 - eta·lambda) non-positive; PluginError if a plugin fails.
EngineResult run_local_sgd(const Objective& objective, const DataView& data, Schedule& schedule,
                           const StepSize& step_size, const EngineConfig& config,
                           Monitor* monitor = nullptr);

}  // namespace localsgd::core
