// The floor the engine is measured against: plain mini-batch SGD for logistic loss with
// no regulariser, no averaging and no checks. Per step: draw b rows (the engine's
// Philox stream), their dot products with the model, the logistic derivatives, and the
// sparse update. Everything the engine adds (lazy L2, the weighted average, schedules,
// monitoring) is what its ratio to this loop prices.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "localsgd/data.hpp"
#include "localsgd/random.hpp"

namespace localsgd::bench {

// `steps` steps of batch `batch` with step size `eta` from x = 0; returns x.
inline std::vector<double> bare_sgd(const DataView& data, std::int64_t batch, std::int64_t steps,
                                    double eta) {
  std::vector<double> x(static_cast<std::size_t>(data.cols), 0.0);
  std::vector<std::int64_t> rows(static_cast<std::size_t>(batch));
  std::vector<double> g(rows.size());
  const WorkerRng rng(1, 0);
  const double scale = eta / static_cast<double>(batch);
  for (std::int64_t t = 0; t < steps; ++t) {
    rng.draw_indices(t, static_cast<std::uint64_t>(data.rows()), rows);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const double y = data.label[static_cast<std::size_t>(rows[i])] > 0 ? 1.0 : -1.0;
      g[i] = -y / (1.0 + std::exp(y * data.row(rows[i]).dot(x.data())));
    }
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const SparseRow row = data.row(rows[i]);
      const double c = scale * g[i];
      for (std::int64_t j = 0; j < row.size; ++j) x[row.index[j]] -= c * row.value[j];
    }
  }
  return x;
}

}  // namespace localsgd::bench
