// The exact solver's preconditioner M^{-1} = P P^T, where x = P u whitens the data's
// features (engine/preconditioner.hpp). Conjugate gradients and L-BFGS that apply it run
// as they would in u, where the Hessian of a linear or softmax model is within its loss's
// curvature of the identity, whatever the features' scales. Without it, CG on features
// that span 1e-2 to 1e4 needed thousands of products a Newton step: softmax on 2000 rows
// of 20 such features and 10 classes ran 500 Newton iterations (6.5 min) and did not
// converge.
#pragma once

#include <algorithm>
#include <cmath>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "localsgd/core/engine/preconditioner.hpp"
#include "localsgd/sdk.hpp"

namespace localsgd::core {

class SolverPreconditioner {
 public:
  // Whitens when the objective's parameters are blocks of the data's columns
  // (Whitening::layout_of), else is the identity. The full P while applying it (two
  // triangular solves, 2 features² a block) costs no more than a Hessian-vector product
  // (about 2 (nnz + rows) a block), and up to 512 features; else the diagonal one.
  SolverPreconditioner(const Objective& objective, const DataView& data) {
    const auto layout = Whitening::layout_of(objective, data);
    if (!layout || data.rows() == 0) return;
    const MarginObjective* margin = objective.as_margin();
    const double mu = objective.curvature().mu;
    const double lambda = margin != nullptr ? margin->lambda() : mu > 0 ? mu : 0.0;
    const auto features = static_cast<double>(layout->features);
    const auto entries = static_cast<double>(data.nnz() + data.rows());
    const bool diagonal = layout->features > kMaxFullFeatures || features * features > entries;
    // G costs nnz_per_row² a row: a sample of rows is plenty for a preconditioner.
    const double nnz_per_row = static_cast<double>(data.nnz()) / static_cast<double>(data.rows());
    const auto max_rows = static_cast<std::int64_t>(
        std::clamp(1e8 / std::max(1.0, nnz_per_row * nnz_per_row), 1e3, 2e4));
    whitening_ = std::make_unique<Whitening>(data, *layout, lambda, max_rows, diagonal);
    u_.resize(static_cast<std::size_t>(objective.dimension()));
  }

  // z = M^{-1} r.
  void apply(std::span<const double> r, std::vector<double>& z) const {
    z.resize(r.size());
    if (!whitening_) {
      std::copy(r.begin(), r.end(), z.begin());
      return;
    }
    whitening_->gradient_to_whitened(r, u_);  // P^T r
    whitening_->to_model(u_, z);              // P (P^T r)
  }

  // "whiten(features=21)", "scale(features=301)" or "none".
  std::string describe() const { return whitening_ ? whitening_->describe() : "none"; }

 private:
  static constexpr std::int64_t kMaxFullFeatures = 512;
  std::unique_ptr<Whitening> whitening_;
  mutable std::vector<double> u_;
};

}  // namespace localsgd::core
