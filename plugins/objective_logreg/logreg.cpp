// L2-regularised logistic regression:
//   f(x) = (1/n) sum_i log(1 + exp(-y_i (a_i.w + beta))) + (lambda/2) |w|^2,  y_i in {-1, +1},
// with the intercept beta only when bias=true. Labels 0/1 are read as -1/+1.
// phi'' = sigma(z)(1 - sigma(z)) <= 1/4, so (linear_algebra.hpp) L = lambda_max(A~^T A~/n)/4
// + lambda (power iteration, on first use), L_max = max_i |a~_i|^2/4 + lambda, mu = lambda
// without bias and unknown with it (f is not strongly convex along the intercept).
#include <algorithm>
#include <cmath>
#include <string>

#include <localsgd/sdk.hpp>

namespace {

using localsgd::signed_label;

// log(1 + exp(m)) without overflow for large m or loss of precision for very negative m.
double log1p_exp(double m) {
  return m > 0 ? m + std::log1p(std::exp(-m)) : std::log1p(std::exp(m));
}

// 1 / (1 + exp(m)), stable for either sign of m.
double inverse_one_plus_exp(double m) {
  if (m >= 0) {
    const double e = std::exp(-m);
    return e / (1.0 + e);
  }
  return 1.0 / (1.0 + std::exp(m));
}

class LogisticRegression final : public localsgd::RegularisedLinear {
 public:
  // phi'' = sigma(z)(1 - sigma(z)) <= 1/4.
  explicit LogisticRegression(const localsgd::ObjectiveArgs& args) : RegularisedLinear(args, 0.25) {
    localsgd::check_binary_labels(args.data, "logreg");
  }

  double margin_loss(double z, double y) const override { return log1p_exp(-signed_label(y) * z); }

  void margin_derivatives(std::span<const double> z, std::span<const double> y,
                          std::span<double> dphi) const override {
    for (std::size_t i = 0; i < z.size(); ++i) {
      const double s = signed_label(y[i]);
      dphi[i] = -s * inverse_one_plus_exp(s * z[i]);
    }
  }

  void margin_second_derivatives(std::span<const double> z, std::span<const double>,
                                 std::span<double> d2phi) const override {
    for (std::size_t i = 0; i < z.size(); ++i) {
      const double p = inverse_one_plus_exp(-z[i]);  // sigma(z); the sign of y cancels
      d2phi[i] = p * (1.0 - p);
    }
  }

  Prediction prediction_kind() const override { return Prediction::probability; }
  double predict(const localsgd::SparseRow& row, std::span<const double> x) const override {
    return inverse_one_plus_exp(-margin(row, x));  // P(y = +1)
  }
};

constexpr localsgd::ParamDoc kParams[] = {
    localsgd::RegularisedLinear::kLambdaDoc,
    localsgd::RegularisedLinear::kBiasDoc,
};

const localsgd::Manifest kManifest = localsgd::objective_manifest<LogisticRegression>(
    "logreg", "1.1.0", "L2-regularised logistic regression (labels -1/+1 or 0/1)", kParams);

}  // namespace

LOCALSGD_PLUGIN(kManifest)
