// `localsgd train` as a library call: load the plugins, read the data, run the engine,
// evaluate, and describe the run. The CLI only fills a TrainRequest from its flags.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "localsgd/core/engine.hpp"
#include "localsgd/sdk.hpp"

namespace localsgd::core {

struct TrainRequest {
  std::string objective;  // plugin name or path
  ParamMap objective_params;
  std::string data;    // "" = the embedded default (synthetic reader)
  std::string reader;  // "" = libsvm for files, synthetic without --data
  ParamMap reader_params;
  std::string schedule = "constant";
  ParamMap schedule_params;
  std::string step_size = "invtime";
  ParamMap step_size_params;
  std::string partition = "shared";  // see partition.hpp
  std::string sampling = "iid";      // iid or shuffle, see sampling.hpp
  bool async = false;                // asynchronous Local SGD in simulated time
  std::string worker_speeds;         // "1,1,0.5,0.25", "random" (seeded), "" = all 1
  std::int64_t max_staleness = -1;   // rounds a worker may lead the slowest; -1 = unbounded
  ParamMap partition_params;

  std::int64_t workers = 4;
  std::int64_t batch = 4;
  std::optional<std::int64_t> steps;  // T; default from epochs
  std::optional<double> epochs;       // T = ceil(E n / (K b)); default 10 when neither is set
  std::uint64_t seed = 1;
  int threads = 0;
  std::optional<double> avg_shift;   // default: the rule's shift (paper) or H
  std::optional<double> fstar;       // known f*; else solved (and cached) when a target is set
  std::optional<double> target;      // stop when f(x̂) - f* <= target
  std::optional<double> target_rel;  // stop when (f(x̂) - f*) / |f*| <= target_rel
  std::int64_t eval_every = 0;       // progress events every N steps (0: none; with a target,
                                     // once per epoch)
  std::string test;                  // test data: accuracy or RMSE in progress and summary
  std::string init;                  // model file every worker starts from
  std::string out;                   // model file for x̂, written atomically
  std::string plot;                  // .svg/.png: suboptimality (or f) against epochs, log scale
  // Already loaded training data (e.g. shared by the runs of a sweep); `data` and
  // `reader` are then ignored. Must outlive the call.
  const Dataset* preloaded = nullptr;
  // The objective already built from `objective` and `objective_params` on `preloaded`
  // (a sweep's runs share one, and with it its curvature estimate). Must outlive the call.
  const Objective* prebuilt_objective = nullptr;
};

// Receives each progress event (DESIGN.md §2) as it happens.
using ProgressCallback = std::function<void(const nlohmann::ordered_json&)>;

struct TrainOutcome {
  nlohmann::ordered_json summary;  // the `summary` event (DESIGN.md §2)
  EngineResult result;
};

TrainOutcome train(const TrainRequest& request, const ProgressCallback& on_progress = {});

}  // namespace localsgd::core
