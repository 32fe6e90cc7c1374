// Which rows each worker samples from (--partition), a function of (seed, K, data) only.
//
//   shared      every worker samples from all rows: the paper's i.i.d. setting (default)
//   shard       a seeded random split into K disjoint parts of near-equal size
//   contiguous  worker k owns rows floor(kn/K) .. floor((k+1)n/K) - 1, so a process can
//               load only its workers' rows
//   label-skew  per label, the rows are shared out in proportions drawn from a symmetric
//               Dirichlet(alpha) over the K workers (non-IID, as in federated learning
//               benchmarks); small alpha = strong skew, large alpha = close to shard
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "localsgd/sdk.hpp"

namespace localsgd::core {

struct Partition {
  std::string description;                      // e.g. "label-skew(alpha=0.5)"
  std::vector<std::vector<std::int64_t>> rows;  // per worker, ascending; empty: shared
};

// Throws UsageError for an unknown name or parameter, or a part left empty.
Partition make_partition(const std::string& name, const ParamMap& params, const DataView& data,
                         std::int64_t workers, std::uint64_t seed);

std::vector<std::string> partition_names();

}  // namespace localsgd::core
