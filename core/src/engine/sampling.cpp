#include "localsgd/core/engine/sampling.hpp"

#include "localsgd/core/errors.hpp"

namespace localsgd::core {

Sampling parse_sampling(const std::string& name) {
  if (name == "iid") return Sampling::iid;
  if (name == "shuffle") return Sampling::shuffle;
  throw UsageError("--sampling " + name + ": expected iid or shuffle");
}

const char* to_string(Sampling sampling) {
  return sampling == Sampling::iid ? "iid" : "shuffle";
}

}  // namespace localsgd::core
