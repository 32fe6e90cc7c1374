// L2-regularised logistic regression:
//   f(x) = (1/n) sum_i log(1 + exp(-y_i a_i.x)) + (lambda/2) |x|^2,   y_i in {-1, +1}.
// Labels 0/1 are read as -1/+1. Curvature: mu = lambda; L_max = max_i |a_i|^2/4 + lambda;
// L = lambda_max(A^T A)/(4n) + lambda, from power iteration (computed on first use).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <mutex>
#include <string>
#include <vector>

#include <localsgd/sdk.hpp>

namespace {

using localsgd::DataView;

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

double signed_label(double y) {
  return y > 0 ? 1.0 : -1.0;
}

void check_binary_labels(const DataView& data) {
  bool has_zero = false, has_minus_one = false;
  for (std::size_t i = 0; i < data.label.size(); ++i) {
    const double y = data.label[i];
    has_zero = has_zero || y == 0.0;
    has_minus_one = has_minus_one || y == -1.0;
    if (y != 1.0 && y != -1.0 && y != 0.0)
      throw localsgd::DataError("", 0, 0,
                                "logreg needs binary labels (-1/+1 or 0/1); row " +
                                    std::to_string(i + 1) + " has label " + std::to_string(y) +
                                    " (use a multiclass objective such as softmax)");
  }
  if (has_zero && has_minus_one)
    throw localsgd::DataError("", 0, 0, "logreg labels mix 0 and -1; use -1/+1 or 0/1");
}

// Largest eigenvalue of A^T A / n by power iteration from the all-ones vector.
double top_eigenvalue_of_gram(const DataView& data) {
  const auto d = static_cast<std::size_t>(data.cols);
  const auto n = static_cast<double>(data.rows());
  std::vector<double> v(d, 1.0 / std::sqrt(static_cast<double>(d))), w(d);
  double estimate = 0.0;
  for (int iteration = 0; iteration < 500; ++iteration) {
    std::fill(w.begin(), w.end(), 0.0);
    for (std::int64_t i = 0; i < data.rows(); ++i) {
      const auto row = data.row(i);
      const double av = row.dot(v.data());
      for (std::int64_t j = 0; j < row.size; ++j) w[row.index[j]] += av * row.value[j];
    }
    double rayleigh = 0.0, norm2 = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
      rayleigh += v[j] * w[j];
      norm2 += w[j] * w[j];
    }
    rayleigh /= n;
    const double norm = std::sqrt(norm2);
    if (norm == 0.0) return 0.0;
    for (std::size_t j = 0; j < d; ++j) v[j] = w[j] / norm;
    const bool converged = std::abs(rayleigh - estimate) <= 1e-10 * rayleigh;
    estimate = rayleigh;
    if (converged) break;
  }
  return estimate;
}

class LogisticRegression final : public localsgd::MarginObjective {
 public:
  explicit LogisticRegression(const localsgd::ObjectiveArgs& args)
      : data_(args.data),
        cols_(std::max<std::int64_t>(1, args.cols)),
        lambda_(args.params.has("lambda")
                    ? args.params.nonnegative_number("lambda", 0)
                    : 1.0 / static_cast<double>(std::max<std::int64_t>(1, args.data.rows()))) {
    check_binary_labels(args.data);
    for (std::int64_t i = 0; i < data_.rows(); ++i) {
      const auto row = data_.row(i);
      double norm2 = 0.0;
      for (std::int64_t j = 0; j < row.size; ++j) norm2 += row.value[j] * row.value[j];
      max_row_norm2_ = std::max(max_row_norm2_, norm2);
    }
  }

  std::int64_t dimension() const override { return cols_; }

  localsgd::Curvature curvature() const override {
    std::call_once(spectral_once_, [&] { spectral_ = top_eigenvalue_of_gram(data_) / 4.0; });
    return {spectral_ + lambda_, max_row_norm2_ / 4.0 + lambda_,
            lambda_ > 0 ? lambda_ : localsgd::kUnknown, true};
  }

  double lambda() const override { return lambda_; }

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

  localsgd::ParamMap resolved_params() const override {
    localsgd::ParamMap p;
    char buffer[32];
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, lambda_).ptr;
    p.set("lambda", std::string(buffer, end));
    return p;
  }

  Prediction prediction_kind() const override { return Prediction::probability; }
  double predict(const localsgd::SparseRow& row, std::span<const double> x) const override {
    return inverse_one_plus_exp(-row.dot(x.data()));  // P(y = +1)
  }

 private:
  const DataView data_;
  const std::int64_t cols_;
  const double lambda_;
  double max_row_norm2_ = 0.0;
  mutable std::once_flag spectral_once_;
  mutable double spectral_ = 0.0;
};

constexpr localsgd::ParamDoc kParams[] = {
    {"lambda", "1/n", "L2 regularisation strength (>= 0); also the strong convexity mu"},
};

const localsgd::Manifest kManifest = localsgd::objective_manifest<LogisticRegression>(
    "logreg", "1.0.0", "L2-regularised logistic regression (labels -1/+1 or 0/1)", kParams);

}  // namespace

LOCALSGD_PLUGIN(kManifest)
