// Refuses a run whose workers' state cannot fit in this machine's memory, before anything
// is allocated: `-K 1000000` or `--batch 1e9` must be a message, not an out-of-memory kill.
#pragma once

#include <unistd.h>

#include <algorithm>
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

// An estimate of what the engine holds per worker: its model, its share of the weighted
// average and the sparse bookkeeping (three vectors of d doubles), a mini-batch's margins
// and derivatives (two of `batch` doubles), with shuffled sampling a permutation of the
// `sampled_rows` it draws from, and about 2 KB of fixed state (buffers, claim slots).
// Counted in double so that it cannot wrap. `sharing` processes share the machine (MPI
// ranks on one node): each may use its share.
inline void check_memory(std::int64_t workers, std::int64_t dimension, std::int64_t batch,
                         std::int64_t sampled_rows, int sharing = 1) {
  const double K = static_cast<double>(workers);
  const double model = K * 24.0 * static_cast<double>(dimension);
  const double batches = K * 16.0 * static_cast<double>(batch);
  const double permutations = K * 8.0 * static_cast<double>(sampled_rows);
  const double fixed = K * 2048.0;
  const double bytes = model + batches + permutations + fixed;
  const double available = physical_memory_bytes() / std::max(1, sharing);
  if (!(available > 0) || bytes <= available) return;
  // Name the largest part, and what shrinks it.
  const char* remedy =
      permutations >= std::max({model, batches, fixed})
          ? "shuffled sampling keeps a permutation of the rows per worker: use "
            "--sampling iid, --partition shard, or fewer workers (-K)"
      : batches >= std::max(model, fixed) ? "use a smaller batch (-b) or fewer workers (-K)"
      : workers > 1                       ? "use fewer workers (-K)"
                    : "one model of this size does not fit: the data's largest feature "
                      "index sets it (check the file for a stray huge index)";
  throw UsageError(
      "K = " + std::to_string(workers) + " workers with a model of " + std::to_string(dimension) +
      " coordinates, mini-batches of " + std::to_string(batch) +
      (sampled_rows > 0 ? " and shuffled sampling over " + std::to_string(sampled_rows) + " rows"
                        : std::string()) +
      " need at least " + brief_number(bytes / 1e9) + " GB, more than " +
      (sharing > 1 ? "this rank's share of " : "") + "this machine's " +
      brief_number(available / 1e9) + " GB; " + remedy);
}

}  // namespace localsgd::core
