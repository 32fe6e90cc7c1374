// Measuring a model on all rows of a data set, in parallel and in a fixed order: the
// same bits for any thread count. Progress checks and the end of a run call these; for
// margin objectives they read the rows once for everything asked.
#pragma once

#include <span>
#include <utility>
#include <vector>

#include "localsgd/sdk.hpp"

namespace localsgd::core {

// f(x) over all rows, summed in parallel in a fixed order (same bits for any thread count).
double evaluate_objective(const Objective& objective, const DataView& data,
                          const std::vector<double>& x);

// f(x), f(y) and the gradient of f at x, written to `gradient_x` (size dimension()). For
// margin objectives one parallel pass over the rows for the margins and losses (the
// values have the bits evaluate_objective gives) and one for the gradient, summed
// over a fixed number of row blocks; otherwise the pair and the plugin's gradient.
std::pair<double, double> evaluate_pair_and_gradient(const Objective& objective,
                                                     const DataView& data,
                                                     const std::vector<double>& x,
                                                     const std::vector<double>& y,
                                                     std::span<double> gradient_x);

}  // namespace localsgd::core
