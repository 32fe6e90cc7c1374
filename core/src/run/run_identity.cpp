#include "run_identity.hpp"

#include <cstdio>

#include "localsgd/core/data/binary_format.hpp"
#include "localsgd/core/io/fstar_cache.hpp"
#include "localsgd/core/plugins/plugin_file.hpp"

namespace localsgd::core {
namespace {

std::string hex(std::uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

}  // namespace

nlohmann::ordered_json plugin_identity(const Manifest& manifest, const ParamMap& params) {
  return {{"name", manifest.name},
          {"version", manifest.version},
          {"file_hash", plugin_file_hash(manifest)},
          {"params", params.all()}};
}

nlohmann::ordered_json data_identity(const DataView& data) {
  return {{"rows", data.rows()}, {"cols", data.cols}, {"hash", hex(dataset_hash(data))}};
}

nlohmann::ordered_json run_identity(const Problem& problem, const TrainOptions& options,
                                    const RunFacts& facts) {
  const EngineConfig& c = facts.config;
  const DataView data = problem.data();
  nlohmann::ordered_json id;
  id["objective"] = plugin_identity(problem.objective_manifest(), options.objective.params);
  id["schedule"] = plugin_identity(problem.schedule_manifest(), facts.schedule_params);
  id["data"] = data_identity(data);
  id["dimension"] = problem.objective().dimension();
  id["workers"] = c.workers;
  id["batch"] = c.batch;
  id["steps"] = c.steps;
  id["seed"] = c.seed;
  id["sampling"] = to_string(c.sampling);
  id["partition"] = facts.partition;
  id["lr"] = facts.step_size;
  id["preconditioner"] = facts.preconditioner;
  id["avg_shift"] = c.avg_shift;
  id["init"] =
      c.initial_model.empty()
          ? std::string("none")
          : hex(binary::hash64(c.initial_model.data(), c.initial_model.size() * sizeof(double)));
  id["async"] = c.async.enabled;
  if (c.async.enabled) {
    id["worker_speeds"] = c.async.speeds;
    id["max_staleness"] = c.async.max_staleness;
  }
  id["evaluate_every"] = facts.evaluate_every;
  // A rate fit needs every evaluation since the start: a checkpoint of a run without one
  // cannot give the uninterrupted run's fit.
  if (options.fit_rate) id["fit_rate"] = true;
  id["target"] = options.target       ? nlohmann::ordered_json{{"absolute", *options.target}}
                 : options.target_rel ? nlohmann::ordered_json{{"relative", *options.target_rel}}
                                      : nlohmann::ordered_json(nullptr);
  return id;
}

std::optional<std::string> identity_difference(const nlohmann::ordered_json& saved,
                                               const nlohmann::ordered_json& now,
                                               const std::string& saved_name,
                                               const std::string& now_name) {
  for (const auto& [key, value] : now.items()) {
    const bool present = saved.is_object() && saved.contains(key);
    if (present && saved.at(key) == value) continue;
    if (value.is_object() && present && saved.at(key).is_object())
      if (auto inner = identity_difference(saved.at(key), value, saved_name, now_name))
        return key + "." + *inner;
    return key + " is " + (present ? saved.at(key).dump() : std::string("unset")) + " in " +
           saved_name + " and " + value.dump() + " in " + now_name;
  }
  if (saved.is_object())
    for (const auto& [key, value] : saved.items())
      if (!now.contains(key))
        return key + " is " + value.dump() + " in " + saved_name + " and absent in " + now_name;
  return std::nullopt;
}

}  // namespace localsgd::core
