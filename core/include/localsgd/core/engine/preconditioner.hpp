// A fixed linear change of variables x = P u that whitens the data's features, so that
// SGD on u is insensitive to feature scales and to features that are far from centred.
//
// G = E[a a^T] + lambda I over the feature vector a of a row (with a trailing 1 when the
// model has an intercept; the intercept gets no lambda), and P P^T = G^{-1}: in u the
// Hessian of a least-squares model is the identity, and that of a logistic or softmax one
// is within a factor of its loss's curvature of it. P = S^{-1} L^{-T}, where S = diag(G)^{1/2}
// and L L^T = S^{-1} G S^{-1} (Cholesky of the Jacobi-scaled G, stable at any scales).
//
// The change of variables is exact: the run minimises f(P u), its model is P u, and every
// worker applies the same P, so Local SGD on u is Local SGD (and its average is the
// average in x). The parameters are `blocks` consecutive copies of the features (one per
// class of a softmax model, one for a linear model), each transformed by the same P.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "localsgd/sdk.hpp"

namespace localsgd::core {

class Whitening {
 public:
  // The feature layout of `objective`'s parameters, or none (nullopt) when the objective
  // is not convex or its parameters are not whole blocks of the data's columns.
  struct Layout {
    std::int64_t features;  // per block: the data's columns, +1 for a margin intercept
    std::int64_t blocks;
    bool intercept;  // the last feature of each block is a constant 1
  };
  static std::optional<Layout> layout_of(const Objective& objective, const DataView& data);

  // What P is, for models too wide for the full one:
  //   full:     P P^T = G^{-1} (two triangular solves of features^2 a block and step).
  //   diagonal: P = diag(G)^{-1/2} (Jacobi scaling, O(features) a step): it evens the
  //             feature scales but neither centres them nor undoes their correlations.
  //   centred:  P P^T = (D + m m^T)^{-1}, D the features' variances (+ lambda), m their
  //             means: the whitening of features that are uncorrelated but far from
  //             centred, O(features) a step. With an intercept it is exact centring
  //             (x_w = D^{-1/2} u_w, x_b = u_b - m^T x_w); without one P = D^{-1/2}(I - beta
  //             v v^T), v the unit vector along D^{-1/2} m. Uncentred features make G's
  //             largest eigenvalue about |D^{-1/2} m|^2 times its others (600 dense features
  //             of mean 3 and variance 1: 5400), which diagonal scaling leaves as it is.
  enum class Form { full, diagonal, centred };

  // G from up to `max_rows` rows spread evenly over the data (a deterministic choice:
  // the preconditioner does not depend on the seed).
  Whitening(const DataView& data, const Layout& layout, double lambda,
            std::int64_t max_rows = 20000, Form form = Form::full);
  // The rows it reads of data of n rows: up to max_rows, spread evenly, ascending.
  static std::vector<std::int64_t> sample_rows(std::int64_t n, std::int64_t max_rows);
  // A max_rows for data of n rows and `entries` stored entries: G costs nnz_per_row² a
  // row, and a sample of 1000 to 20000 rows is plenty for a preconditioner.
  static std::int64_t max_rows_for(std::int64_t n, std::int64_t entries);

  // Full form, several blocks: to_model and gradient_to_whitened solve all blocks at once
  // (Eigen's blocked triangular solve), or, once this is called, block by block with scalar
  // loops, which round differently. The exact solver's CG asks for that: on its product-
  // counting test (1000 x 14, 30 classes) it took 200 products with the solves together
  // against 132 block by block, and one Newton iteration more on 2 of 4 unscaled sets.
  void solve_block_by_block() { together_ = false; }

  std::int64_t dimension() const { return layout_.features * layout_.blocks; }
  std::int64_t features() const { return layout_.features; }

  void to_model(std::span<const double> u, std::span<double> x) const;     // x = P u
  void to_whitened(std::span<const double> x, std::span<double> u) const;  // u = P^{-1} x
  void gradient_to_whitened(std::span<const double> g,
                            std::span<double> gu) const;  // P^T g

  std::vector<double> to_model(std::span<const double> u) const;
  std::vector<double> to_whitened(std::span<const double> x) const;

  // e.g. "whiten(features=31)", "scale(features=600)" or "centre-scale(features=600)"
  std::string describe() const;

 private:
  void build_centred(const DataView& data, double lambda, std::span<const std::int64_t> sample,
                     std::int64_t rows);
  using LowerMatrix =
      Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
  LowerMatrix lower_matrix() const;  // L over lower_ (its upper triangle is zeros)

  Layout layout_;
  Form form_;
  bool together_ = true;       // see solve_block_by_block()
  std::vector<double> scale_;  // S (full, diagonal) or D^{1/2} (centred)
  std::vector<double> lower_;  // L, row-major lower triangle (features x features); full only
  // Centred: m (with an intercept) or v (without one), per feature of a block.
  std::vector<double> mean_, direction_;
  double beta_ = 0, gamma_ = 0;  // P's and P^{-1}'s weight on v v^T: (1 - beta)(1 + gamma) = 1
};

// The objective in u: f(P u), gradient P^T grad f(P u). Dense steps (the sparse path
// needs x itself). Holds references: `objective` and `whitening` outlive it.
std::unique_ptr<Objective> whitened_objective(const Objective& objective,
                                              const Whitening& whitening);

}  // namespace localsgd::core
