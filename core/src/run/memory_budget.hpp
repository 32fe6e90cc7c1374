// Refuses a run whose workers' state cannot fit in this machine's memory, before anything
// is allocated: `-K 1000000` or `--batch 1e9` must be a message, not an out-of-memory kill.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <string>

#include "localsgd/core/errors.hpp"

namespace localsgd::core {

// Physical memory in bytes (0 when unknown, which disables the check).
inline double physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<double>(pages) * static_cast<double>(page) : 0;
}

// A lower bound on what the engine holds per worker: its model, its share of the weighted
// average and the sparse bookkeeping (three vectors of d doubles), and a mini-batch's
// margins and derivatives (two of `batch` doubles), and with shuffled sampling a permutation
// of the `sampled_rows` it draws from. Counted in double so it cannot wrap.
inline void check_memory(std::int64_t workers, std::int64_t dimension, std::int64_t batch,
                         std::int64_t sampled_rows) {
  const double bytes = static_cast<double>(workers) *
                       (24.0 * static_cast<double>(dimension) + 16.0 * static_cast<double>(batch) +
                        8.0 * static_cast<double>(sampled_rows));
  const double available = physical_memory_bytes();
  if (available > 0 && bytes > available)
    throw UsageError(
        "K = " + std::to_string(workers) + " workers with a model of " + std::to_string(dimension) +
        " coordinates and mini-batches of " + std::to_string(batch) + " need at least " +
        brief_number(bytes / 1e9) +
        " GB (model, mini-batch and sampling state per worker), more than this machine's " +
        brief_number(available / 1e9) + " GB; use fewer workers (-K) or a smaller batch (-b)");
}

}  // namespace localsgd::core
