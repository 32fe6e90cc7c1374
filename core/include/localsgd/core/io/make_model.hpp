// The model file's content for a trained or solved objective (model_io.hpp's Model).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "localsgd/core/io/model_io.hpp"
#include "localsgd/core/plugins/plugin_file.hpp"
#include "localsgd/sdk.hpp"

namespace localsgd::core {

// The parameters as given, overridden by the objective's resolved ones (e.g. lambda =
// 1/n of the data), so that eval and --init rebuild the same objective on other data
// (and the train summary names them).
inline std::map<std::string, std::string> recorded_params(const ParamMap& given,
                                                          const Objective& objective) {
  std::map<std::string, std::string> params = given.all();
  const ParamMap resolved = objective.resolved_params();  // kept: all() refers into it
  for (const auto& [key, value] : resolved.all()) params[key] = value;
  return params;
}

inline Model make_model(const Manifest& manifest, const ParamMap& given, const Objective& objective,
                        std::int64_t cols, std::vector<double> coefficients) {
  return {manifest.name,
          recorded_params(given, objective),
          cols,
          std::move(coefficients),
          plugin_file(manifest).string(),
          manifest.version ? manifest.version : ""};
}

}  // namespace localsgd::core
