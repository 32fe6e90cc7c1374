// What a run is, for checkpoints: everything that decides its trajectory (data, plugins
// and their files, parameters, the resolved step size and preconditioner, the evaluation
// cadence and target, which may stop it), and nothing that does not (threads, output
// paths). A resume is refused when any of it differs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "localsgd/core/engine/engine.hpp"
#include "localsgd/core/run/problem.hpp"
#include "localsgd/core/run/train_options.hpp"

namespace localsgd::core {

struct RunFacts {
  const EngineConfig& config;
  const ParamMap& schedule_params;
  std::string step_size;        // StepSize::describe()
  std::string preconditioner;   // DefaultStep::preconditioner()
  std::string partition;        // Partition::description
  std::int64_t evaluate_every;  // the monitor's cadence; 0 without a monitor
  std::uint64_t data_hash;      // dataset_hash of the training data (data_hash.hpp)
};

nlohmann::ordered_json run_identity(const Problem& problem, const TrainOptions& options,
                                    const RunFacts& facts);

// The parts of an identity that name a plugin (name, version, its file's hash, the
// parameters by value, defaults included) and a data set (rows, columns, content hash);
// sweep_identity uses them too.
nlohmann::ordered_json plugin_identity(const Manifest& manifest, const ParamMap& params);
nlohmann::ordered_json data_identity(const DataView& data);
nlohmann::ordered_json data_identity(const DataView& data, std::uint64_t hash);  // hash given
// A 64-bit hash as the identities write it: 16 hexadecimal digits.
std::string hex(std::uint64_t value);

// The first entry that differs, as "workers is 4 in the checkpoint and 8 in this run";
// nothing when they agree.
std::optional<std::string> identity_difference(const nlohmann::ordered_json& saved,
                                               const nlohmann::ordered_json& now,
                                               const std::string& saved_name = "the checkpoint",
                                               const std::string& now_name = "this run");

}  // namespace localsgd::core
