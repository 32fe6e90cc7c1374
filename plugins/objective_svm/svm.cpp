// L2-regularised linear SVM with a smooth hinge loss, on the margin m = y (a_i.w + beta):
//   f(x) = (1/n) sum_i phi(m_i) + (lambda/2) |w|^2,   y_i in {-1, +1} (0/1 read as -1/+1),
// with the intercept beta only when bias=true. Two losses (the plain hinge is not smooth,
// so the SGD theory does not cover it):
//   loss=smoothed (default), smoothing gamma > 0: phi = 0 for m >= 1, 1 - m - gamma/2 for
//     m <= 1 - gamma, (1 - m)^2 / (2 gamma) in between; phi'' <= 1/gamma.
//   loss=squared: phi = max(0, 1 - m)^2 / 2; phi'' <= 1.
// With c that bound on phi'' (linear_algebra.hpp): L = c lambda_max(A~^T A~/n) + lambda,
// L_max = c max_i |a~_i|^2 + lambda, mu = lambda without bias, unknown with it.
#include <algorithm>
#include <string>

#include <localsgd/sdk.hpp>

namespace {

using localsgd::ParamError;
using localsgd::ParamMap;
using localsgd::signed_label;

enum class Loss { smoothed, squared };

Loss parse_loss(const ParamMap& params) {
  const std::string name = params.text("loss", "smoothed");
  if (name == "smoothed") return Loss::smoothed;
  if (name == "squared") return Loss::squared;
  throw ParamError("parameter loss=" + name + ": must be smoothed or squared");
}

double parse_smoothing(const ParamMap& params, Loss loss) {
  if (loss == Loss::squared) {
    // Accepting it silently would hide a typo in `loss`.
    if (params.has("smoothing"))
      throw ParamError("parameter smoothing=" + params.text("smoothing", "") +
                       ": applies only to loss=smoothed");
    return 1.0;
  }
  return params.positive_number("smoothing", 1.0);
}

// The loss with its gamma (1 for loss=squared, where no smoothing applies), parsed once.
struct LossParams {
  Loss loss;
  double gamma;
};

LossParams parse_loss_params(const ParamMap& params) {
  const Loss loss = parse_loss(params);
  return {loss, parse_smoothing(params, loss)};
}

class SmoothSvm final : public localsgd::RegularisedLinear {
 public:
  explicit SmoothSvm(const localsgd::ObjectiveArgs& args)
      : SmoothSvm(args, parse_loss_params(args.params)) {}

  double margin_loss(double z, double y) const override {
    const double gap = 1.0 - signed_label(y) * z;  // 1 - m
    if (gap <= 0.0) return 0.0;
    if (loss_ == Loss::squared) return 0.5 * gap * gap;
    return gap >= gamma_ ? gap - 0.5 * gamma_ : 0.5 * gap * gap / gamma_;
  }

  // dphi/dz = y dphi/dm.
  void margin_derivatives(std::span<const double> z, std::span<const double> y,
                          std::span<double> dphi) const override {
    for (std::size_t i = 0; i < z.size(); ++i) {
      const double s = signed_label(y[i]);
      const double gap = 1.0 - s * z[i];
      double slope = 0.0;  // -dphi/dm
      if (gap > 0.0) {
        if (loss_ == Loss::squared)
          slope = gap;
        else
          slope = gap >= gamma_ ? 1.0 : gap / gamma_;
      }
      dphi[i] = -s * slope;
    }
  }

  // d2phi/dz2 = d2phi/dm2 (y^2 = 1): constant on the quadratic piece, zero elsewhere.
  void margin_second_derivatives(std::span<const double> z, std::span<const double> y,
                                 std::span<double> d2phi) const override {
    for (std::size_t i = 0; i < z.size(); ++i) {
      const double gap = 1.0 - signed_label(y[i]) * z[i];
      const bool quadratic = gap > 0.0 && (loss_ == Loss::squared || gap < gamma_);
      d2phi[i] = quadratic ? max_second_derivative() : 0.0;
    }
  }

  ParamMap resolved_params() const override {
    ParamMap p = RegularisedLinear::resolved_params();
    p.set("loss", loss_ == Loss::squared ? "squared" : "smoothed");
    if (loss_ == Loss::smoothed) p.set("smoothing", localsgd::format_number(gamma_));
    return p;
  }

  Prediction prediction_kind() const override { return Prediction::sign; }
  double predict(const localsgd::SparseRow& row, std::span<const double> x) const override {
    return margin(row, x) > 0.0 ? 1.0 : -1.0;  // a tie is -1, as in LIBLINEAR
  }

 private:
  // phi'' <= 1/gamma (smoothed) or 1 (squared, where gamma is 1).
  SmoothSvm(const localsgd::ObjectiveArgs& args, LossParams loss)
      : RegularisedLinear(args, 1.0 / loss.gamma), loss_(loss.loss), gamma_(loss.gamma) {
    localsgd::check_binary_labels(args.data, "svm");
  }

  const Loss loss_;
  const double gamma_;
};

constexpr localsgd::ParamDoc kParams[] = {
    localsgd::RegularisedLinear::kLambdaDoc,
    localsgd::RegularisedLinear::kBiasDoc,
    {"loss", "smoothed", "smoothed (quadratically smoothed hinge) or squared (squared hinge)"},
    {"smoothing", "1", "width gamma > 0 of the quadratic piece of the smoothed hinge"},
};

const localsgd::Manifest kManifest = localsgd::objective_manifest<SmoothSvm>(
    "svm", "1.0.0", "L2-regularised linear SVM, smoothed or squared hinge (labels -1/+1 or 0/1)",
    kParams);

}  // namespace

LOCALSGD_PLUGIN(kManifest)
