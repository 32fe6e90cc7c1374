// Which rows a rank of an MPI run reads the features of (ReadRequest::select_rows).
//
// With --partition contiguous, shard or label-skew over several ranks, each rank trains on
// its workers' rows only. It also reads the rows the set-up reads (the default step size's probe sample
// and whitening rows, the intercept's rows for a warm start), so that the set-up is the
// threads run's, bit for bit, and never holds the whole data. Runs whose set-up needs every
// row read every row: an explicit step rule that takes the curvature, f* to solve for.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/communicator.hpp"
#include "localsgd/core/data/loading.hpp"
#include "localsgd/core/run/problem.hpp"
#include "localsgd/core/run/train_options.hpp"

namespace localsgd::core {

// A margin objective's intercept starts at its best value on these rows (all up to
// kInterceptRows, else that many spread evenly).
inline constexpr std::int64_t kInterceptRows = 100000;
std::vector<std::int64_t> intercept_rows(std::int64_t rows);

// The selector for this rank, or none (read every row).
RowSelector rows_to_read(const TrainOptions& options, const Communicator& communicator);

// After a selected read, every rank reads every row after all when the set-up would need
// more than it read: an objective plugin that is another function when built on other rows
// (its constructor looks at the features, against the SDK's contract), or a margin model
// whose intercept's start needs the features (its weights do not start at 0). Collective.
void read_every_row_if_needed(Problem& problem, const TrainOptions& options,
                              Communicator& communicator);

}  // namespace localsgd::core
