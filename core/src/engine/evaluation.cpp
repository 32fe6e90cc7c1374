#include "localsgd/core/engine/evaluation.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <numeric>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>
#include <tbb/partitioner.h>

namespace localsgd::core {
namespace {

// Rows per leaf of the loss sums: with simple_partitioner the summation tree depends on
// n only. Every function here uses the same, so a loss sum has the same bits whichever
// function computes it.
constexpr std::int64_t kRowGrain = 2048;

// The gradient's row blocks, each scattered into its own vector: fixed, so the sum does
// not depend on the thread count; few, so their blocks × d doubles stay small at large d.
constexpr std::int64_t kGradientBlocks = 4;

// f from the sum of a margin objective's losses over all rows.
double margin_value(const MarginObjective& margin, const DataView& data, double loss_sum,
                    const std::vector<double>& x) {
  const std::span<const double> weights(x.data(), margin.regularised_size(x));
  return loss_sum / static_cast<double>(data.rows()) +
         0.5 * margin.lambda() * MarginObjective::squared_norm(weights);
}

}  // namespace

double evaluate_objective(const Objective& objective, const DataView& data,
                          const std::vector<double>& x) {
  const MarginObjective* margin = objective.as_margin();
  if (margin == nullptr) return objective.value(data, x);
  // Fixed grain + deterministic reduce: the summation tree depends on n only.
  const double loss_sum = tbb::parallel_deterministic_reduce(
      tbb::blocked_range<std::int64_t>(0, data.rows(), kRowGrain), 0.0,
      [&](const tbb::blocked_range<std::int64_t>& r, double acc) {
        for (std::int64_t i = r.begin(); i != r.end(); ++i)
          acc += margin->margin_loss(margin->margin(data.row(i), x),
                                     data.label[static_cast<std::size_t>(i)]);
        return acc;
      },
      std::plus<double>(), tbb::simple_partitioner());
  return margin_value(*margin, data, loss_sum, x);
}

std::pair<double, double> evaluate_pair_and_gradient(const Objective& objective,
                                                     const DataView& data,
                                                     const std::vector<double>& x,
                                                     const std::vector<double>& y,
                                                     std::span<double> gradient_x) {
  const MarginObjective* margin = objective.as_margin();
  if (margin == nullptr) {
    const std::pair<double, double> values{evaluate_objective(objective, data, x),
                                           evaluate_objective(objective, data, y)};
    std::vector<std::int64_t> rows(static_cast<std::size_t>(data.rows()));
    std::iota(rows.begin(), rows.end(), std::int64_t{0});
    objective.loss_and_gradient(data, rows, x, gradient_x);
    return values;
  }
  const std::int64_t n = data.rows();
  const auto rows = static_cast<std::size_t>(n);
  // Pass 1: the margins at x (kept), both losses (the tree of evaluate_objective),
  // and phi'(z) for x's margins a leaf at a time (one plugin call per leaf).
  std::vector<double> dphi(rows);
  using Sums = std::pair<double, double>;
  const Sums sums = tbb::parallel_deterministic_reduce(
      tbb::blocked_range<std::int64_t>(0, n, kRowGrain), Sums{0.0, 0.0},
      [&](const tbb::blocked_range<std::int64_t>& r, Sums acc) {
        const auto begin = static_cast<std::size_t>(r.begin());
        const auto size = static_cast<std::size_t>(r.size());
        double* z = dphi.data() + begin;  // the margins, then overwritten by phi'
        for (std::int64_t i = r.begin(); i != r.end(); ++i) {
          const SparseRow row = data.row(i);
          const double label = data.label[static_cast<std::size_t>(i)];
          const double zx = margin->margin(row, x);
          z[static_cast<std::size_t>(i) - begin] = zx;
          acc.first += margin->margin_loss(zx, label);
          acc.second += margin->margin_loss(margin->margin(row, y), label);
        }
        const std::span<const double> labels(data.label.data() + begin, size);
        std::vector<double> margins(z, z + size);
        margin->margin_derivatives(margins, labels, std::span<double>(z, size));
        return acc;
      },
      [](Sums a, const Sums& b) {
        return Sums{a.first + b.first, a.second + b.second};
      },
      tbb::simple_partitioner());

  // Pass 2: (1/n) sum_i phi'_i a~_i, scattered per block, the blocks added in order.
  const std::size_t d = gradient_x.size();
  const std::size_t weights = margin->regularised_size(x);
  const std::int64_t blocks = std::clamp<std::int64_t>(n / kRowGrain, 1, kGradientBlocks);
  std::vector<std::vector<double>> partial(static_cast<std::size_t>(blocks));
  tbb::parallel_for(std::int64_t{0}, blocks, [&](std::int64_t block) {
    std::vector<double>& g = partial[static_cast<std::size_t>(block)];
    g.assign(d, 0.0);
    double intercept = 0.0;
    for (std::int64_t i = n * block / blocks; i < n * (block + 1) / blocks; ++i) {
      const SparseRow row = data.row(i);
      const double di = dphi[static_cast<std::size_t>(i)];
      for (std::int64_t j = 0; j < row.size; ++j) g[row.index[j]] += di * row.value[j];
      intercept += di;
    }
    if (margin->has_intercept()) g[weights] = intercept;
  });
  const double inv_n = 1.0 / static_cast<double>(n);
  const double lambda = margin->lambda();
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, d, 4096),
                    [&](const tbb::blocked_range<std::size_t>& r) {
                      for (std::size_t j = r.begin(); j != r.end(); ++j) {
                        double sum = 0.0;
                        for (const auto& g : partial) sum += g[j];
                        gradient_x[j] = sum * inv_n + (j < weights ? lambda * x[j] : 0.0);
                      }
                    });

  return {margin_value(*margin, data, sums.first, x), margin_value(*margin, data, sums.second, y)};
}

}  // namespace localsgd::core
