// The drivers of `solve`, `data inspect` and `data convert`: each takes its typed request,
// does the whole job and returns the event the command prints. The CLI only maps flags.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "localsgd/core/run/problem.hpp"
#include "localsgd/core/solve/solve.hpp"
#include "localsgd/sdk.hpp"

namespace localsgd::core {

// Refuses (UsageError) an objective that does not declare itself convex. Its curvature
// may cost passes over the data (the linear models' power iteration, cached): a caller
// that takes signals gracefully only during the solve asks this first.
void check_solvable(const Problem& problem);

// f* and x* of the problem's objective by the exact solver (check_solvable() first); x* written to
// `out` (a model file, atomically) unless it is empty. A UsageError for objectives that do not
// declare themselves convex. Returns the `solve` event.
nlohmann::ordered_json solve_problem(const Problem& problem, const std::string& out,
                                     const SolveOptions& options = {});

struct DataRequest {
  std::string file;
  PluginChoice reader;  // name "": by suffix
};

// Rows, columns, nnz, density, label counts and value range: the `inspect` event. Labels
// are a value -> count object, or with `labels_as_text` one line for a table.
nlohmann::ordered_json inspect_data(const DataRequest& request, bool labels_as_text);

// Writes the data as `to` ("" = by the output's suffix): libsvm, csv or bin. The format
// is checked before the input is read. Returns the `convert` event.
nlohmann::ordered_json convert_data(const DataRequest& request, const std::string& out,
                                    const std::string& to);

}  // namespace localsgd::core
