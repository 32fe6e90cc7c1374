#include "run_identity.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <system_error>

#include "localsgd/core/data/binary_format.hpp"
#include "localsgd/core/data/data_hash.hpp"
#include "localsgd/core/io/make_model.hpp"
#include "localsgd/core/plugins/plugin_file.hpp"

namespace localsgd::core {
namespace {

// One spelling per number: "1e-4" and "0.0001" are one value, "016" and "16" one integer
// (integers apart: a double would merge neighbours above 2^53). Other text stays.
std::string canonical_value(const std::string& text) {
  const char* const end = text.data() + text.size();
  std::int64_t integer = 0;
  if (const auto [at, error] = std::from_chars(text.data(), end, integer);
      error == std::errc() && at == end)
    return std::to_string(integer);
  double number = 0;
  if (const auto [at, error] = std::from_chars(text.data(), end, number);
      error == std::errc() && at == end && std::isfinite(number))
    return format_number(number);
  return text;
}

}  // namespace

std::string hex(std::uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

nlohmann::ordered_json plugin_identity(const Manifest& manifest, const ParamMap& params) {
  // The values the plugin runs with: a default stated explicitly is the default left out.
  std::map<std::string, std::string> values = params.all();
  for (std::size_t i = 0; i < manifest.param_count; ++i)
    values.emplace(manifest.params[i].name, manifest.params[i].default_value);
  for (auto& [name, value] : values) value = canonical_value(value);
  return {{"name", manifest.name},
          {"version", manifest.version},
          {"file_hash", plugin_file_hash(manifest)},
          {"params", values}};
}

nlohmann::ordered_json data_identity(const DataView& data, std::uint64_t hash) {
  return {{"rows", data.rows()}, {"cols", data.cols}, {"hash", hex(hash)}};
}

nlohmann::ordered_json data_identity(const DataView& data) {
  return data_identity(data, dataset_hash(data));
}

nlohmann::ordered_json run_identity(const Problem& problem, const TrainOptions& options,
                                    const RunFacts& facts) {
  const EngineConfig& c = facts.config;
  const DataView data = problem.data();
  nlohmann::ordered_json id;
  // The data first: the first difference named is the cause (lambda = 1/n follows n).
  id["data"] = data_identity(data, facts.data_hash);
  // With the defaults the objective resolved on the data (lambda = 1/n), so that giving
  // one's value explicitly is the same run.
  id["objective"] =
      plugin_identity(problem.objective_manifest(),
                      ParamMap(recorded_params(options.objective.params, problem.objective())));
  id["schedule"] = plugin_identity(problem.schedule_manifest(), facts.schedule_params);
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
