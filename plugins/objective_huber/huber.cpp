// Robust linear regression with the Huber loss on the residual r = a_i.w + beta - y_i:
//   f(x) = (1/n) sum_i phi(r_i) + (lambda/2) |w|^2,
//   phi(r) = r^2/2 for |r| <= delta, delta (|r| - delta/2) beyond (linear: outliers pull
// with bounded force), with the intercept beta only when bias=true; labels are real targets.
// phi'' <= 1, so (linear_algebra.hpp) L = lambda_max(A~^T A~/n) + lambda, L_max =
// max_i |a~_i|^2 + lambda, mu = lambda without bias, unknown with it.
#include <algorithm>
#include <cmath>
#include <mutex>
#include <string>

#include <localsgd/sdk.hpp>

namespace {

using localsgd::DataView;

class Huber final : public localsgd::MarginObjective {
 public:
  explicit Huber(const localsgd::ObjectiveArgs& args)
      : data_(args.data),
        bias_(args.params.boolean("bias", false)),
        dimension_(bias_ ? args.cols + 1 : std::max<std::int64_t>(1, args.cols)),
        lambda_(args.params.has("lambda")
                    ? args.params.nonnegative_number("lambda", 0)
                    : 1.0 / static_cast<double>(std::max<std::int64_t>(1, args.data.rows()))),
        delta_(args.params.positive_number("delta", 1.0)),
        max_row_norm2_(localsgd::max_row_norm2(args.data)) {}

  std::int64_t dimension() const override { return dimension_; }
  bool has_intercept() const override { return bias_; }

  localsgd::Curvature curvature() const override {
    std::call_once(gram_once_, [&] { gram_top_ = localsgd::gram_top_eigenvalue(data_, bias_); });
    return localsgd::margin_curvature(gram_top_, max_row_norm2_, 1.0, lambda_, bias_);
  }

  double lambda() const override { return lambda_; }

  double margin_loss(double z, double y) const override {
    const double r = std::abs(z - y);
    return r <= delta_ ? 0.5 * r * r : delta_ * (r - 0.5 * delta_);
  }

  void margin_derivatives(std::span<const double> z, std::span<const double> y,
                          std::span<double> dphi) const override {
    for (std::size_t i = 0; i < z.size(); ++i) dphi[i] = std::clamp(z[i] - y[i], -delta_, delta_);
  }

  void margin_second_derivatives(std::span<const double> z, std::span<const double> y,
                                 std::span<double> d2phi) const override {
    for (std::size_t i = 0; i < z.size(); ++i)
      d2phi[i] = std::abs(z[i] - y[i]) <= delta_ ? 1.0 : 0.0;
  }

  localsgd::ParamMap resolved_params() const override {
    localsgd::ParamMap p;
    p.set("lambda", localsgd::format_number(lambda_));
    p.set("bias", bias_ ? "true" : "false");
    p.set("delta", localsgd::format_number(delta_));
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
  const double delta_;
  const double max_row_norm2_;
  // The power iteration is a pass over the data per iteration: only when asked for.
  mutable std::once_flag gram_once_;
  mutable double gram_top_ = 0.0;
};

constexpr localsgd::ParamDoc kParams[] = {
    {"lambda", "1/n", "L2 regularisation strength (>= 0); also the strong convexity mu"},
    {"bias", "false", "fit an unregularised intercept (then mu is unknown)"},
    {"delta", "1", "residual size (> 0) where the loss turns from quadratic to linear"},
};

const localsgd::Manifest kManifest = localsgd::objective_manifest<Huber>(
    "huber", "1.0.0", "L2-regularised robust linear regression, Huber loss (real targets)",
    kParams);

}  // namespace

LOCALSGD_PLUGIN(kManifest)
