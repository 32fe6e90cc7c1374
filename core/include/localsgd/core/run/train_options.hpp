// What a user can ask of `localsgd train`, typed, with its defaults in place, checked in
// one place (validate). The command line, config files and the sweep fill a TrainOptions;
// nothing else checks options. In the style of Ceres' Solver::Options.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "localsgd/core/engine/backend.hpp"
#include "localsgd/core/engine/sampling.hpp"
#include "localsgd/sdk.hpp"

namespace localsgd::core {

// A plugin by name (or path to a .so) and its parameters.
struct PluginChoice {
  std::string name;
  ParamMap params;
};

// automatic: probed for the problem (default_step.hpp); with --lr-param given, invtime.
// Largest --workers and --batch: far beyond any machine, small enough that K * b * H and
// the step counts derived from them fit in 64 bits.
inline constexpr std::int64_t kMaxWorkers = std::int64_t{1} << 24;
inline constexpr std::int64_t kMaxBatch = std::int64_t{1} << 30;

enum class StepRule { automatic, invtime, paper, constant, sqrt, step };
enum class PartitionKind { shared, shard, contiguous, label_skew };

const char* to_string(StepRule rule);
const char* to_string(Backend backend);
const char* to_string(PartitionKind kind);
// Names as the command line spells them, for CLI11 transformers and help texts.
std::vector<std::pair<std::string, StepRule>> step_rule_names();
std::vector<std::pair<std::string, PartitionKind>> partition_kind_names();
std::vector<std::pair<std::string, Sampling>> sampling_names();
std::vector<std::pair<std::string, Backend>> backend_names();

struct AsyncOptions {
  bool enabled = false;                       // asynchronous Local SGD in simulated time
  std::vector<double> speeds;                 // one per worker; empty: all 1
  bool random_speeds = false;                 // seeded speeds in [0.25, 1] instead
  std::optional<std::int64_t> max_staleness;  // rounds a worker may lead; none: unbounded
};

struct TrainOptions {
  // The problem.
  PluginChoice objective;  // required
  std::string data;        // "" = the embedded default (synthetic reader)
  PluginChoice reader;     // name "": by suffix for files, synthetic without data
  std::string test;        // test data: accuracy or RMSE in progress and summary
  std::string init;        // model file every worker starts from

  // The algorithm.
  std::int64_t workers = 4;                 // K
  std::int64_t batch = 4;                   // b
  PluginChoice schedule{"constant", {}};    // when (and who) averages
  std::optional<std::int64_t> local_steps;  // H: the constant schedule's parameter
  std::optional<StepRule> lr;               // unset: step_rule()
  ParamMap lr_params;
  std::optional<double> avg_shift;  // a of the output weights; default the rule's or H
  PartitionKind partition = PartitionKind::shared;
  ParamMap partition_params;
  Sampling sampling = Sampling::shuffle;  // measured better than iid (README "Defaults")
  AsyncOptions async;
  Backend backend = Backend::threads;  // mpi: the workers spread over the MPI ranks
  std::optional<std::int64_t> steps;   // T; default from epochs
  std::optional<double> epochs;        // T = ceil(E n / (K b)); see kDefaultEpochs
  std::uint64_t seed = 1;
  int threads = 0;  // cap; 0 = all cores; never changes results

  // Monitoring and output.
  std::optional<double> fstar;       // known f*; else solved (and cached) for a target
  std::optional<double> target;      // stop when f(x̂) - f* <= target
  std::optional<double> target_rel;  // stop when (f(x̂) - f*) / |f*| <= target_rel
  std::optional<double> max_epochs;  // a target's budget without --steps/--epochs
  bool require_target = false;       // an unmet target fails the run (exit 1)
  bool warn_unmet_target = true;     // else only the summary says so (the sweep counts them)
  std::int64_t eval_every = 0;       // progress every N steps (0: none; with a target or
                                     // a plot, per epoch or per 1/8 epoch)
  std::string out;                   // model file for x̂, written atomically
  std::string plot;                  // .svg/.png of the progress curve
  bool fit_rate = false;             // fit f(x̂) - f* ≈ C·T^s over the run's tail

  // Checkpoints (docs/RELIABILITY.md): the whole state, every `checkpoint_every` steps
  // (default: kDefaultCheckpointSeconds apart) and when a signal stops the run.
  std::string checkpoint;
  std::optional<std::int64_t> checkpoint_every;
  std::string resume;  // continue from this checkpoint, bit for bit

  // The first problem with these options as a one-line message, or nothing. The only
  // place where train's options are checked; train() throws it as a UsageError.
  std::optional<std::string> validate() const;

  // The rule that runs: --lr's, else auto, or invtime when --lr-param is given alone
  // (its parameters keep their meaning of earlier versions).
  StepRule step_rule() const {
    return lr.value_or(lr_params.all().empty() ? StepRule::automatic : StepRule::invtime);
  }

  bool targeted() const { return target.has_value() || target_rel.has_value(); }
};

// Passes a run without --steps or --epochs takes: 10, or as many as take 3 x 10^6 sampled
// gradients when that is more (small data sets need more passes, and they are cheap: ten-
// class softmax problems with f* near 1e-3 ended 1.4-4 % above f* after 10^6, README
// "Defaults");
// with a target up to 100 passes or 10^7 gradients (it stops when the target is reached).
inline constexpr double kDefaultEpochs = 10;
inline constexpr double kDefaultMinSamples = 3e6;
inline constexpr double kDefaultMaxEpochs = 100;
inline constexpr double kDefaultMaxSamples = 1e7;

// Without --checkpoint-every, a checkpoint at the first step boundary a minute after the
// last one (and one when a signal stops the run).
inline constexpr double kDefaultCheckpointSeconds = 60;

// The steps per worker: `steps`, or ceil(epochs·n/(K·b)) with the epochs given, or the
// target's budget (--max-epochs) for a targeted run, or kDefaultEpochs.
std::int64_t resolve_steps(const TrainOptions& options, std::int64_t rows);

}  // namespace localsgd::core
