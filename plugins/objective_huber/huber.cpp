// Robust linear regression with the Huber loss on the residual r = a_i.w + beta - y_i:
//   f(x) = (1/n) sum_i phi(r_i) + (lambda/2) |w|^2,
//   phi(r) = r^2/2 for |r| <= delta, delta (|r| - delta/2) beyond (linear: outliers pull
// with bounded force), with the intercept beta only when bias=true; labels are real targets.
// phi'' <= 1, so (linear_algebra.hpp) L = lambda_max(A~^T A~/n) + lambda, L_max =
// max_i |a~_i|^2 + lambda, mu = lambda without bias, unknown with it.
#include <algorithm>
#include <cmath>
#include <string>

#include <localsgd/sdk.hpp>

namespace {

class Huber final : public localsgd::RegularisedLinear {
 public:
  explicit Huber(const localsgd::ObjectiveArgs& args)
      : RegularisedLinear(args, 1.0), delta_(args.params.positive_number("delta", 1.0)) {}

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
    localsgd::ParamMap p = RegularisedLinear::resolved_params();
    p.set("delta", localsgd::format_number(delta_));
    return p;
  }

  Prediction prediction_kind() const override { return Prediction::value; }
  double predict(const localsgd::SparseRow& row, std::span<const double> x) const override {
    return margin(row, x);
  }

 private:
  const double delta_;
};

constexpr localsgd::ParamDoc kParams[] = {
    localsgd::RegularisedLinear::kLambdaDoc,
    localsgd::RegularisedLinear::kBiasDoc,
    {"delta", "1", "residual size (> 0) where the loss turns from quadratic to linear"},
};

const localsgd::Manifest kManifest = localsgd::objective_manifest<Huber>(
    "huber", "1.0.0", "L2-regularised robust linear regression, Huber loss (real targets)",
    kParams);

}  // namespace

LOCALSGD_PLUGIN(kManifest)
