// Ridge regression (L2-regularised least squares):
//   f(x) = (1/2n) sum_i (a_i.w + beta - y_i)^2 + (lambda/2) |w|^2,
// with the intercept beta only when bias=true; labels are real targets.
// phi'' = 1, so (linear_algebra.hpp) L = lambda_max(A~^T A~/n) + lambda, L_max =
// max_i |a~_i|^2 + lambda, and mu = lambda without bias (a valid lower bound: the exact value
// is lambda + lambda_min(A^T A/n)), unknown with it.
#include <algorithm>
#include <mutex>
#include <string>

#include <localsgd/sdk.hpp>

namespace {

using localsgd::DataView;

class Ridge final : public localsgd::MarginObjective {
 public:
  explicit Ridge(const localsgd::ObjectiveArgs& args)
      : data_(args.data),
        bias_(args.params.boolean("bias", false)),
        dimension_(bias_ ? args.cols + 1 : std::max<std::int64_t>(1, args.cols)),
        lambda_(args.params.has("lambda")
                    ? args.params.nonnegative_number("lambda", 0)
                    : 1.0 / static_cast<double>(std::max<std::int64_t>(1, args.data.rows()))),
        max_row_norm2_(localsgd::max_row_norm2(args.data)) {}

  std::int64_t dimension() const override { return dimension_; }
  bool has_intercept() const override { return bias_; }

  localsgd::Curvature curvature() const override {
    std::call_once(gram_once_, [&] { gram_top_ = localsgd::gram_top_eigenvalue(data_, bias_); });
    return localsgd::margin_curvature(gram_top_, max_row_norm2_, 1.0, lambda_, bias_);
  }

  double lambda() const override { return lambda_; }

  double margin_loss(double z, double y) const override {
    const double r = z - y;
    return 0.5 * r * r;
  }

  void margin_derivatives(std::span<const double> z, std::span<const double> y,
                          std::span<double> dphi) const override {
    for (std::size_t i = 0; i < z.size(); ++i) dphi[i] = z[i] - y[i];
  }

  void margin_second_derivatives(std::span<const double> z, std::span<const double>,
                                 std::span<double> d2phi) const override {
    std::fill_n(d2phi.begin(), z.size(), 1.0);
  }

  localsgd::ParamMap resolved_params() const override {
    localsgd::ParamMap p;
    p.set("lambda", localsgd::format_number(lambda_));
    p.set("bias", bias_ ? "true" : "false");
    return p;
  }

  Prediction prediction_kind() const override { return Prediction::value; }
  double predict(const localsgd::SparseRow& row, std::span<const double> x) const override {
    return margin(row, x);
  }

 private:
  const DataView data_;
  const bool bias_;
  const std::int64_t dimension_;
  const double lambda_;
  const double max_row_norm2_;
  // The power iteration is a pass over the data per iteration: only when asked for.
  mutable std::once_flag gram_once_;
  mutable double gram_top_ = 0.0;
};

constexpr localsgd::ParamDoc kParams[] = {
    {"lambda", "1/n", "L2 regularisation strength (>= 0); also the strong convexity mu"},
    {"bias", "false", "fit an unregularised intercept (then mu is unknown)"},
};

const localsgd::Manifest kManifest = localsgd::objective_manifest<Ridge>(
    "ridge", "1.0.0", "ridge regression: L2-regularised least squares (real targets)", kParams);

}  // namespace

LOCALSGD_PLUGIN(kManifest)
