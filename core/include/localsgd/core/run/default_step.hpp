// The default step size (`--lr auto`, used when no --lr and no --lr-param are given):
// chosen for the problem at hand by short probe runs, as Bottou's sgd does, on a seeded
// subsample, with the data's features whitened (preconditioner.hpp) when that probes
// better. See README "Defaults" for the measurements behind each choice.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "localsgd/core/engine/preconditioner.hpp"
#include "localsgd/core/engine/step_size.hpp"
#include "localsgd/sdk.hpp"

namespace localsgd::core {

struct DefaultStep {
  std::unique_ptr<Whitening> whitening;  // null: the run is in x itself
  std::unique_ptr<Objective> whitened;   // the objective in u when whitening
  std::unique_ptr<StepSize> step_size;   // in the run's coordinates
  std::int64_t probe_samples = 0;        // stochastic gradients the probes took
  // The run's T: RunSize::steps, or more when plain steps beat whitening at equal work on
  // a default budget (they then take the samples the whitened run's work would buy).
  std::int64_t steps = 0;
  std::string preconditioner() const { return whitening ? whitening->describe() : "none"; }
};

// The run the step is for: T steps per worker, K T b stochastic gradients in all (which
// sets how long each probe runs, see kProbeShareOfRun).
struct RunSize {
  std::int64_t steps = 0;
  std::int64_t samples = 0;
  bool default_budget = false;  // no --steps, --epochs or --max-epochs: it may be stretched
};

// `start` is x_0 in the model's coordinates (the objective's initial point or --init).
// The step is the best probe's η for the first half of the run, then decays linearly
// toward 0 over the second half (see README "Defaults").
// `entries` is the data's stored entries (data.nnz(), or the whole file's when only some
// rows hold their features: ReadRequest::select_rows); it reads default_step_rows() only.
DefaultStep choose_default_step(const Objective& objective, const DataView& data,
                                std::int64_t entries, std::int64_t batch, std::uint64_t seed,
                                std::span<const double> start, RunSize run);

// The rows choose_default_step reads of data with `rows` rows and `entries` stored entries
// (its probes' sample and the whitening's rows), ascending and distinct.
std::vector<std::int64_t> default_step_rows(std::int64_t rows, std::int64_t entries,
                                            std::uint64_t seed);

}  // namespace localsgd::core
