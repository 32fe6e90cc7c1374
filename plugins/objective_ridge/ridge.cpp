// Ridge regression (L2-regularised least squares):
//   f(x) = (1/2n) sum_i (a_i.w + beta - y_i)^2 + (lambda/2) |w|^2,
// with the intercept beta only when bias=true; labels are real targets.
// phi'' = 1, so (linear_algebra.hpp) L = lambda_max(A~^T A~/n) + lambda, L_max =
// max_i |a~_i|^2 + lambda, and mu = lambda without bias (a valid lower bound: the exact value
// is lambda + lambda_min(A^T A/n)), unknown with it.
#include <algorithm>
#include <string>

#include <localsgd/sdk.hpp>

namespace {

class Ridge final : public localsgd::RegularisedLinear {
 public:
  explicit Ridge(const localsgd::ObjectiveArgs& args) : RegularisedLinear(args, 1.0) {}

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

  Prediction prediction_kind() const override { return Prediction::value; }
  double predict(const localsgd::SparseRow& row, std::span<const double> x) const override {
    return margin(row, x);
  }
};

constexpr localsgd::ParamDoc kParams[] = {localsgd::RegularisedLinear::kLambdaDoc,
                                          localsgd::RegularisedLinear::kBiasDoc};

const localsgd::Manifest kManifest = localsgd::objective_manifest<Ridge>(
    "ridge", "1.0.0", "ridge regression: L2-regularised least squares (real targets)", kParams);

}  // namespace

LOCALSGD_PLUGIN(kManifest)
