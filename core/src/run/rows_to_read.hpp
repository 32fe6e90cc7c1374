// Which rows a rank of an MPI run reads the features of (ReadRequest::select_rows).
//
// With --partition contiguous, shard or label-skew over several ranks, each rank trains on
// its workers' rows only. It also reads the rows the set-up reads (the default step size's
// probe sample and whitening rows) and the first kCommonRows rows, which every rank reads
// (to check that the objective is one function on every rank), so that the set-up is the
// threads run's, bit for bit, and no rank holds the whole data. Runs whose set-up needs
// every row read every row: an explicit step rule that takes the curvature, f* to solve for.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/communicator.hpp"
#include "localsgd/core/data/loading.hpp"
#include "localsgd/core/run/problem.hpp"
#include "localsgd/core/run/train_options.hpp"

namespace localsgd::core {

inline constexpr std::int64_t kCommonRows = 64;

// The first kCommonRows rows of `data` (a copy), which every rank of a selected read holds.
Dataset common_rows(const DataView& data);
// A point where every part of f counts (every coordinate nonzero, of a modest size).
std::vector<double> test_point(std::size_t dimension);
// a == b to 1e-12 (relative, or absolute below 1).
bool same_value(double a, double b);

// The selector for this rank, or none (read every row).
RowSelector rows_to_read(const TrainOptions& options, const Communicator& communicator);

// After a selected read, every rank reads every row after all when the set-up would need
// more than it read: an objective plugin that is another function when built on other rows
// (its constructor looks at the features, against the SDK's contract: on the common rows,
// the ranks' objectives differ, or one rebuilt on those rows alone differs), or a margin
// model whose intercept's start needs the features (its weights do not start at 0).
// Collective.
void read_every_row_if_needed(Problem& problem, const TrainOptions& options,
                              Communicator& communicator);

}  // namespace localsgd::core
