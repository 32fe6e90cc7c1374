// `localsgd train` as a library call: Local SGD on a Problem with TrainOptions, its
// evaluations handed to callbacks, described by a TrainSummary. The CLI maps its flags
// onto TrainOptions and prints the summary; the sweep calls the same function per run.
#pragma once

#include <functional>
#include <span>

#include <nlohmann/json.hpp>

#include "localsgd/core/engine/engine.hpp"
#include "localsgd/core/run/callbacks.hpp"
#include "localsgd/core/run/problem.hpp"
#include "localsgd/core/run/train_options.hpp"
#include "localsgd/core/run/train_summary.hpp"

namespace localsgd::core {

struct TrainOutcome {
  TrainSummary summary;
  EngineResult result;  // the models x̂ and x̄ and the engine's counts
  int interrupted = 0;  // the signal that ended the run early (result.interrupted), or 0
  nlohmann::ordered_json json() const { return summary.to_json(); }
};

// One run on an already loaded problem (the options' objective, data, reader, test and
// schedule name are the problem's; its schedule parameters and -H apply). Throws
// UsageError with TrainOptions::validate()'s message for invalid options. The built-in
// callbacks (a target stop for --target, a plot for --plot) are added to `callbacks`.
TrainOutcome train(const Problem& problem, const TrainOptions& options,
                   std::span<TrainCallback* const> callbacks = {});

// Loads the problem from the options, then trains; `on_progress` gets every progress
// event as JSON, and `callbacks` every hook.
TrainOutcome train(const TrainOptions& options,
                   const std::function<void(const nlohmann::ordered_json&)>& on_progress = {},
                   std::span<TrainCallback* const> callbacks = {});

}  // namespace localsgd::core
