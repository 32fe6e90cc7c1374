// A base for L2-regularised generalised-linear objectives, so that a plugin writes only
// its loss phi(z, y):
//
//   f(x) = (1/n) sum_i phi(a_i.w + beta, y_i) + (lambda/2)|w|^2
//
// It owns the parameters every such model shares — `lambda` (>= 0, default 1/n) and
// `bias` (an unregularised intercept beta, default false) — the dimension (cols, plus one
// with a bias), and the curvature for a loss with phi'' <= c, computed on first use
// (the power iteration is a pass over the data per iteration). Derived classes add their
// own parameters to resolved_params().
#pragma once

#include "localsgd/language.hpp"  // first: C++20 or one clear error

#include <algorithm>
#include <cstdint>
#include <mutex>

#include "localsgd/linear_algebra.hpp"
#include "localsgd/manifest.hpp"
#include "localsgd/objective.hpp"
#include "localsgd/params.hpp"

namespace localsgd {

// The `lambda` parameter (>= 0) of kLambdaDoc, by default 1/n for n rows of `data`; also
// for objectives that are not RegularisedLinear, so that they share its default.
inline double lambda_param(const ParamMap& params, const DataView& data) {
  return params.has("lambda") ? params.nonnegative_number("lambda", 0)
                              : 1.0 / static_cast<double>(std::max<std::int64_t>(1, data.rows()));
}

class LOCALSGD_API RegularisedLinear : public MarginObjective {
 public:
  // `max_second_derivative` is c, a bound on phi''(z, y) over all z and y.
  RegularisedLinear(const ObjectiveArgs& args, double max_second_derivative)
      : data_(args.data),
        bias_(args.params.boolean("bias", false)),
        dimension_(bias_ ? args.cols + 1 : std::max<std::int64_t>(1, args.cols)),
        lambda_(lambda_param(args.params, args.data)),
        max_second_derivative_(max_second_derivative) {}

  std::int64_t dimension() const override { return dimension_; }
  bool has_intercept() const override { return bias_; }
  double lambda() const override { return lambda_; }

  // mu = lambda without a bias (unknown with one), as margin_curvature() says, without
  // the power iteration.
  double strong_convexity() const override { return !bias_ && lambda_ > 0 ? lambda_ : kUnknown; }

  Curvature curvature() const override {
    std::call_once(curvature_once_, [&] {
      gram_top_ = gram_top_eigenvalue(data_, bias_);
      max_row_norm2_ = max_row_norm2(data_);
    });
    return margin_curvature(gram_top_, max_row_norm2_, max_second_derivative_, lambda_, bias_);
  }

  ParamMap resolved_params() const override {
    ParamMap p;
    p.set("lambda", format_number(lambda_));
    p.set("bias", bias_ ? "true" : "false");
    return p;
  }

  static constexpr ParamDoc kLambdaDoc{
      "lambda", "1/n", "L2 regularisation strength (>= 0); also the strong convexity mu"};
  static constexpr ParamDoc kBiasDoc{"bias", "false",
                                     "fit an unregularised intercept (then mu is unknown)"};

 protected:
  // c, the bound on phi'' given to the constructor.
  double max_second_derivative() const { return max_second_derivative_; }

 private:
  const DataView data_;
  const bool bias_;
  const std::int64_t dimension_;
  const double lambda_;
  const double max_second_derivative_;
  // Both set by the first curvature() call.
  mutable double max_row_norm2_ = 0.0;
  mutable std::once_flag curvature_once_;
  mutable double gram_top_ = 0.0;
};

}  // namespace localsgd
