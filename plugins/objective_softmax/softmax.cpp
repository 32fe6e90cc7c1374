// Multinomial logistic (softmax) regression over C classes:
//   f(x) = (1/n) sum_i [logsumexp_c(w_c.a_i) - w_{y_i}.a_i] + (lambda/2)|x|^2,
// x = (w_1, ..., w_C), class-major: x[c*cols + j]. Dense steps (the general path): the
// gradient touches C blocks per row, which the margin path cannot express.
//
// Curvature. The Hessian is (1/n) sum_i S_i (x) a_i a_i^T + lambda I with
// S_i = diag(p_i) - p_i p_i^T. S_i >= 0 (u^T S u is the variance of u under p), and
// S_i <= I/2: u^T S u = (1/2) sum_{c,d} p_c p_d (u_c - u_d)^2
//                   <= sum_{c!=d} p_c p_d (u_c^2 + u_d^2) = 2 sum_c p_c (1 - p_c) u_c^2 <= |u|^2/2.
// A Kronecker product of PSD matrices is PSD, so for all x
//   lambda I <= H <= (1/2) I (x) A^T A/n + lambda I,
// hence mu = lambda, L = lambda_max(A^T A/n)/2 + lambda, and per row L_max = |a_i|^2/2 + lambda.
#include <algorithm>
#include <cmath>
#include <mutex>
#include <string>
#include <vector>

#include <localsgd/sdk.hpp>

namespace {

using localsgd::DataView;
using localsgd::SparseRow;

class Softmax final : public localsgd::Objective {
 public:
  explicit Softmax(const localsgd::ObjectiveArgs& args)
      : data_(args.data),
        cols_(std::max<std::int64_t>(1, args.cols)),
        lambda_(localsgd::lambda_param(args.params, args.data)),
        classes_(localsgd::ClassLabels::resolve(args.params, args.data, "softmax")) {
    // Extra columns would index past a class block into the next one.
    if (args.data.cols > cols_)
      throw localsgd::DataError("", 0, 0,
                                "softmax: the data has " + std::to_string(args.data.cols) +
                                    " columns, the model " + std::to_string(cols_));
  }

  std::int64_t dimension() const override {
    return static_cast<std::int64_t>(classes_.size()) * cols_;
  }

  double strong_convexity() const override { return lambda_ > 0 ? lambda_ : localsgd::kUnknown; }

  localsgd::Curvature curvature() const override {
    std::call_once(curvature_once_, [&] {
      gram_top_ = localsgd::gram_top_eigenvalue(data_, false);
      max_row_norm2_ = localsgd::max_row_norm2(data_);
    });
    // S_i <= I/2 plays the part of phi'' <= 1/2 in the margin constants (header comment).
    return localsgd::margin_curvature(gram_top_, max_row_norm2_, 0.5, lambda_, false);
  }

  double loss_and_gradient(const DataView& data, std::span<const std::int64_t> rows,
                           std::span<const double> x, std::span<double> gradient) const override {
    for (std::size_t j = 0; j < gradient.size(); ++j) gradient[j] = lambda_ * x[j];
    std::span<double> p = scratch();
    const double inv_b = 1.0 / static_cast<double>(rows.size());
    double loss = 0.0;
    for (std::int64_t i : rows) {
      const SparseRow row = data.row(i);
      const std::size_t y = classes_.index_of_row(data, i, "softmax");
      loss += cross_entropy(row, y, x, p);  // leaves p = softmax probabilities
      p[y] -= 1.0;                          // d loss / d logit_c = p_c - [c = y]
      for (std::size_t c = 0; c < p.size(); ++c) {
        const double coefficient = inv_b * p[c];
        double* g = gradient.data() + c * static_cast<std::size_t>(cols_);
        for (std::int64_t j = 0; j < row.size; ++j) g[row.index[j]] += coefficient * row.value[j];
      }
    }
    return loss * inv_b + 0.5 * lambda_ * localsgd::squared_norm(x);
  }

  double value(const DataView& data, std::span<const double> x) const override {
    std::span<double> p = scratch();
    double loss = 0.0;
    for (std::int64_t i = 0; i < data.rows(); ++i)
      loss += cross_entropy(data.row(i), classes_.index_of_row(data, i, "softmax"), x, p);
    return loss / static_cast<double>(std::max<std::int64_t>(1, data.rows())) +
           0.5 * lambda_ * localsgd::squared_norm(x);
  }

  // H v = (1/n) sum_i a_i (x) S_i (V a_i) + lambda v, V a_i = the C projections u_c = v_c.a_i.
  bool hessian_vector_product(const DataView& data, std::span<const double> x,
                              std::span<const double> v, std::span<double> out) const override {
    for (std::size_t j = 0; j < out.size(); ++j) out[j] = lambda_ * v[j];
    std::span<double> p = scratch();
    std::vector<double> u(classes_.size());
    const double inv_n = 1.0 / static_cast<double>(std::max<std::int64_t>(1, data.rows()));
    for (std::int64_t i = 0; i < data.rows(); ++i) {
      const SparseRow row = data.row(i);
      logits(row, x, p);
      localsgd::softmax_in_place(p);
      double pu = 0.0;
      for (std::size_t c = 0; c < u.size(); ++c) {
        u[c] = row.dot(v.data() + c * static_cast<std::size_t>(cols_));
        pu += p[c] * u[c];
      }
      for (std::size_t c = 0; c < u.size(); ++c) {
        const double coefficient = inv_n * p[c] * (u[c] - pu);  // (S_i u)_c / n
        double* o = out.data() + c * static_cast<std::size_t>(cols_);
        for (std::int64_t j = 0; j < row.size; ++j) o[row.index[j]] += coefficient * row.value[j];
      }
    }
    return true;
  }

  Prediction prediction_kind() const override { return Prediction::label; }

  double predict(const SparseRow& row, std::span<const double> x) const override {
    std::span<double> z = scratch();
    logits(row, x, z);
    return classes_.label(
        static_cast<std::size_t>(std::max_element(z.begin(), z.end()) - z.begin()));
  }

  localsgd::ParamMap resolved_params() const override {
    localsgd::ParamMap p;
    p.set("lambda", localsgd::format_number(lambda_));
    p.set("classes", classes_.to_string());
    return p;
  }

 private:
  // Per-thread buffer of C doubles: every worker calls loss_and_gradient at every step,
  // so the hot path must not allocate.
  std::span<double> scratch() const {
    thread_local std::vector<double> buffer;
    buffer.resize(classes_.size());
    return buffer;
  }

  void logits(const SparseRow& row, std::span<const double> x, std::span<double> z) const {
    for (std::size_t c = 0; c < z.size(); ++c)
      z[c] = row.dot(x.data() + c * static_cast<std::size_t>(cols_));
  }

  // -log p_y at row; leaves the probabilities in p.
  double cross_entropy(const SparseRow& row, std::size_t y, std::span<const double> x,
                       std::span<double> p) const {
    logits(row, x, p);
    return localsgd::cross_entropy_in_place(p, y);
  }

  const DataView data_;
  const std::int64_t cols_;
  const double lambda_;
  const localsgd::ClassLabels classes_;
  mutable std::once_flag curvature_once_;
  mutable double gram_top_ = 0.0;
  mutable double max_row_norm2_ = 0.0;
};

constexpr localsgd::ParamDoc kParams[] = {
    localsgd::RegularisedLinear::kLambdaDoc,
    localsgd::kClassesDoc,
};

const localsgd::Manifest kManifest = localsgd::objective_manifest<Softmax>(
    "softmax", "1.0.0", "L2-regularised multinomial logistic regression (C classes)", kParams);

}  // namespace

LOCALSGD_PLUGIN(kManifest)
