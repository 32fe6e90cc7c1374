// Checking key=value parameters against the keys their consumer declares. Plugins,
// step-size rules and partitions word their errors differently; they share the check.
#pragma once

#include <algorithm>
#include <optional>
#include <span>
#include <string>

#include "localsgd/sdk.hpp"

namespace localsgd::core {

// "a, b, c"; "" when there are none.
inline std::string join_names(std::span<const std::string> names) {
  std::string joined;
  for (std::size_t i = 0; i < names.size(); ++i) joined += (i ? ", " : "") + names[i];
  return joined;
}

// The first key of `params`, in its order, that is not among `known`.
inline std::optional<std::string> first_unknown_key(const ParamMap& params,
                                                    std::span<const std::string> known) {
  for (const auto& [key, value] : params.all())
    if (std::find(known.begin(), known.end(), key) == known.end()) return key;
  return std::nullopt;
}

}  // namespace localsgd::core
