// The exact solver against independent truth: the known w8a optimum,
// LIBLINEAR on a9a, and its own paths (Newton-Cholesky, Newton-CG, L-BFGS) against each other.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <random>

#include <sys/stat.h>
#include <nlohmann/json.hpp>

#include "localsgd/core/data/loading.hpp"
#include "localsgd/core/io/model_io.hpp"
#include "localsgd/core/plugins/plugins.hpp"
#include "localsgd/core/solve/solve.hpp"
#include "test_support.hpp"

namespace {

namespace core = localsgd::core;
using localsgd::testing::data_file;

localsgd::Dataset read(const std::string& name) {
  return core::load_dataset(data_file(name).string(), "libsvm", {});
}

std::unique_ptr<localsgd::Objective> objective(const std::string& name, const localsgd::Dataset& d,
                                               localsgd::ParamMap params = {}) {
  return core::build_objective(core::load_plugin(name, localsgd::PluginKind::objective), params, d);
}

double norm(const std::vector<double>& x) {
  return std::sqrt(std::inner_product(x.begin(), x.end(), x.begin(), 0.0));
}

double relative_distance(const std::vector<double>& a, const std::vector<double>& b) {
  double d = 0;
  for (std::size_t j = 0; j < a.size(); ++j) d += (a[j] - b[j]) * (a[j] - b[j]);
  return std::sqrt(d) / norm(b);
}

TEST(Solve, W8aLogregMatchesTheKnownOptimum) {
  LOCALSGD_REQUIRE_DATA_FILE(data_file("w8a"));
  const auto data = read("w8a");
  const auto f = objective("logreg", data);
  const auto r = core::solve(*f, data.view());
  EXPECT_EQ(r.method, "newton-cholesky");
  EXPECT_NEAR(r.fstar, 0.12618068651051342, 1e-12 * 0.126);
  EXPECT_NEAR(norm(r.x), 27.6896, 1e-4);
  EXPECT_LT(r.grad_norm, 1e-10);
  EXPECT_DOUBLE_EQ(f->value(data.view(), r.x), r.fstar);
}

// Hides Hessian information so that the solver takes its L-BFGS path on the same f.
class NoSecondOrder final : public localsgd::Objective {
 public:
  explicit NoSecondOrder(const localsgd::Objective& inner) : inner_(inner) {}
  std::int64_t dimension() const override { return inner_.dimension(); }
  localsgd::Curvature curvature() const override { return inner_.curvature(); }
  double loss_and_gradient(const localsgd::DataView& d, std::span<const std::int64_t> rows,
                           std::span<const double> x, std::span<double> g) const override {
    return inner_.loss_and_gradient(d, rows, x, g);
  }
  double value(const localsgd::DataView& d, std::span<const double> x) const override {
    return inner_.value(d, x);
  }
  Prediction prediction_kind() const override { return inner_.prediction_kind(); }
  double predict(const localsgd::SparseRow& row, std::span<const double> x) const override {
    return inner_.predict(row, x);
  }

 private:
  const localsgd::Objective& inner_;
};

// The L-BFGS solve of `f` (gradients only): the reference for the Newton paths.
core::SolveResult lbfgs_solve(const localsgd::Objective& f, const localsgd::DataView& data) {
  const NoSecondOrder first_order(f);
  return core::solve(first_order, data);
}

// a9a, logreg on it and its Newton solution, loaded and solved once for the suite (nothing
// is loaded when the file is missing: SetUp then skips, or fails in CI, every test).
class SolveA9a : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(data_file("a9a"))) return;
    data_ = std::make_unique<localsgd::Dataset>(read("a9a"));
    logreg_ = objective("logreg", *data_);
    newton_ = std::make_unique<core::SolveResult>(core::solve(*logreg_, data_->view()));
  }
  static void TearDownTestSuite() {
    newton_.reset();
    logreg_.reset();  // views data_
    data_.reset();
  }

  void SetUp() override {
    LOCALSGD_REQUIRE_DATA_FILE(data_file("a9a"));
    ASSERT_NE(newton_, nullptr) << "loading or solving a9a failed in SetUpTestSuite";
  }

  static const localsgd::Dataset& data() { return *data_; }
  static const localsgd::Objective& logreg() { return *logreg_; }
  static const core::SolveResult& newton() { return *newton_; }

 private:
  static inline std::unique_ptr<localsgd::Dataset> data_;
  static inline std::unique_ptr<localsgd::Objective> logreg_;
  static inline std::unique_ptr<core::SolveResult> newton_;
};

TEST_F(SolveA9a, LbfgsAgreesWithNewton) {
  const auto lbfgs = lbfgs_solve(logreg(), data().view());
  EXPECT_EQ(lbfgs.method, "lbfgs");
  EXPECT_NEAR(lbfgs.fstar, newton().fstar, 1e-11 * newton().fstar);
  EXPECT_LT(relative_distance(lbfgs.x, newton().x), 1e-5);
}

TEST_F(SolveA9a, InterceptModelsAreSolvedWithoutStrongConvexity) {
  localsgd::ParamMap bias;
  bias.set("bias", "true");
  const auto f = objective("logreg", data(), bias);
  const auto r = core::solve(*f, data().view());
  EXPECT_LT(r.grad_norm, 1e-9);
  EXPECT_LT(r.fstar, newton().fstar);  // one more free parameter can only help
}

// LIBLINEAR (Debian's liblinear-tools), -s 0: L2-regularised logistic regression, primal
// trust-region Newton. Its objective is C sum_i log(1+exp(-y_i w.x_i)) + |w|^2/2, which
// is n times ours with C = 1/(lambda n); lambda = 1/n gives C = 1.
TEST_F(SolveA9a, AgreesWithLiblinear) {
  if (std::system("command -v liblinear-train >/dev/null 2>&1") != 0) {
    if (localsgd::testing::running_in_ci()) FAIL() << "liblinear-train is not installed";
    GTEST_SKIP() << "liblinear-train is not installed";
  }
  localsgd::testing::TempDir dir;
  const auto model = dir.path() / "a9a.liblinear";
  const std::string command = "liblinear-train -q -s 0 -c 1 -e 1e-10 -B -1 " +
                              data_file("a9a").string() + " " + model.string();
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream in(model);
  std::string line, first_label;
  std::vector<double> w;
  bool weights = false;
  while (std::getline(in, line)) {
    if (line.rfind("label ", 0) == 0) first_label = line.substr(6, line.find(' ', 6) - 6);
    if (weights) w.push_back(std::stod(line));
    if (line == "w") weights = true;
  }
  ASSERT_EQ(w.size(), 123u);
  if (first_label == "-1")  // LIBLINEAR's w scores its first label
    for (double& v : w) v = -v;

  const auto& r = newton();
  const double f_liblinear = logreg().value(data().view(), w);
  EXPECT_LE(r.fstar, f_liblinear * (1 + 1e-15));
  EXPECT_NEAR(r.fstar, f_liblinear, 1e-9 * r.fstar);
  EXPECT_LT(relative_distance(r.x, w), 1e-5);
}

TEST(Solve, CliPrintsTheContractKeysAndWritesXstar) {
  localsgd::testing::TempDir dir;
  const auto out = dir.path() / "xstar.model";
  const auto r = localsgd::testing::run_cli(
      {"solve", "--plugin", "logreg", "--format", "json", "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto e = nlohmann::json::parse(r.out);
  for (const char* key : {"fstar", "grad_norm", "iterations", "seconds"})
    EXPECT_TRUE(e.contains(key)) << key;
  const auto model = core::load_model(out);
  EXPECT_EQ(model.objective, "logreg");
  EXPECT_EQ(model.coefficients.size(), e["dimension"].get<std::size_t>());
}

}  // namespace

#include <Eigen/Dense>

namespace {

// Ridge regression has a closed form: x* = (AᵀA/n + lambda I)^-1 Aᵀy/n.
TEST(Solve, RidgeOnAbaloneMatchesTheClosedForm) {
  LOCALSGD_REQUIRE_DATA_FILE(data_file("abalone_scale"));
  const auto data = read("abalone_scale");
  const auto view = data.view();
  const double n = static_cast<double>(view.rows()), lambda = 1.0 / n;
  const auto d = static_cast<Eigen::Index>(view.cols);
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(d, d);
  Eigen::VectorXd rhs = Eigen::VectorXd::Zero(d);
  for (std::int64_t i = 0; i < view.rows(); ++i) {
    const auto row = view.row(i);
    for (std::int64_t a = 0; a < row.size; ++a) {
      rhs(row.index[a]) += row.value[a] * view.label[static_cast<std::size_t>(i)] / n;
      for (std::int64_t b = 0; b < row.size; ++b)
        gram(row.index[a], row.index[b]) += row.value[a] * row.value[b] / n;
    }
  }
  gram += lambda * Eigen::MatrixXd::Identity(d, d);
  const Eigen::VectorXd closed_form = gram.ldlt().solve(rhs);
  std::vector<double> expected(closed_form.data(), closed_form.data() + d);

  const auto f = objective("ridge", data);
  const auto r = core::solve(*f, view);
  EXPECT_LT(relative_distance(r.x, expected), 1e-9);
  EXPECT_NEAR(r.fstar, f->value(view, expected), 1e-12 * r.fstar);
}

// Targets offset by 1e5 put every Huber residual at x_0 beyond delta, where the loss has
// no curvature: the intercept is fitted first (before, the solve crept 1 a step and did
// not converge in 500 iterations). The offset moves the intercept alone.
TEST(Solve, AnInterceptFarFromZeroIsFound) {
  LOCALSGD_REQUIRE_DATA_FILE(data_file("abalone_scale"));
  const auto data = read("abalone_scale");
  auto shifted = data;
  for (double& y : shifted.label) y += 1e5;
  localsgd::ParamMap bias;
  bias.set("bias", "true");
  for (const char* name : {"huber", "ridge"}) {
    SCOPED_TRACE(name);
    const auto r = core::solve(*objective(name, data, bias), data.view());
    const auto s = core::solve(*objective(name, shifted, bias), shifted.view());
    EXPECT_TRUE(s.converged) << core::unconverged_message(s);
    EXPECT_LE(s.iterations, 10);
    EXPECT_NEAR(s.fstar, r.fstar, 1e-10 * r.fstar);
    const std::vector<double> weights(s.x.begin(), s.x.end() - 1),
        expected(r.x.begin(), r.x.end() - 1);
    EXPECT_LT(relative_distance(weights, expected), 1e-6);
    EXPECT_NEAR(s.x.back(), r.x.back() + 1e5, 1e-6);
  }
}

// With lambda = 0 a margin model's f depends on the margins only, so scaling a column by
// s and its weight by 1/s leaves f* as it was: columns of scale 1e14 must solve to the f*
// of the unscaled data. The smoothed hinge has no curvature at x_0 = 0 (every margin is 0,
// on its linear part), so Newton's first step is -g/lambda (or -g): the step that helps is
// 1e-31 of it, and the line search used to give up at 1e-20 (exit 1 after 0 iterations).
TEST(Solve, ColumnsOfScale1e14SolveToTheUnscaledOptimum) {
  LOCALSGD_REQUIRE_DATA_FILE(data_file("abalone_scale"));
  auto data = read("abalone_scale");
  for (double& y : data.label) y = y > 10 ? 1 : -1;  // rings > 10: not separable
  auto scaled = data;
  for (std::size_t e = 0; e < scaled.index.size(); ++e)
    scaled.value[e] *= scaled.index[e] % 3 == 0 ? 1e14 : scaled.index[e] % 3 == 1 ? 1 : 1e7;
  localsgd::ParamMap unregularised;
  unregularised.set("lambda", "0");
  for (const char* name : {"svm", "logreg", "huber"}) {
    SCOPED_TRACE(name);
    const auto r = core::solve(*objective(name, data, unregularised), data.view());
    const auto s = core::solve(*objective(name, scaled, unregularised), scaled.view());
    ASSERT_TRUE(r.converged) << core::unconverged_message(r);
    EXPECT_TRUE(s.converged) << core::unconverged_message(s);
    EXPECT_NEAR(s.fstar, r.fstar, 1e-9 * r.fstar);
  }
}

// Columns whose mean is 1e8 times their spread: with an intercept, shifting a column
// changes only the intercept, so f* must be the shifted data's (the shift by 1e8 is exact
// in doubles). The newton-cg path's preconditioner took G = E[a a^T], whose entries
// 1e16 + O(1) round the spread away: it stopped at f = 0.557 against 0.0518 and said it
// had converged.
TEST(Solve, ColumnsFarFromCentredSolveToTheCentredOptimum) {
  constexpr int kRows = 2000, kCols = 600, kUncentred = 100;
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal;
  std::vector<double> w(kCols);
  for (double& v : w) v = normal(rng);
  localsgd::Dataset shifted, centred;
  shifted.cols = centred.cols = kCols;
  for (int i = 0; i < kRows; ++i) {
    double margin = normal(rng);
    for (int j = 0; j < kCols; ++j) {
      const double z = normal(rng);
      margin += z * w[static_cast<std::size_t>(j)];
      const double x = j < kUncentred ? 1e8 + z : z;
      shifted.index.push_back(j);
      shifted.value.push_back(x);
      centred.index.push_back(j);
      centred.value.push_back(j < kUncentred ? x - 1e8 : x);  // exact: x is within 2x of 1e8
    }
    shifted.row_ptr.push_back(static_cast<std::int64_t>(shifted.index.size()));
    centred.row_ptr.push_back(static_cast<std::int64_t>(centred.index.size()));
    shifted.label.push_back(margin > 0 ? 1 : -1);
    centred.label.push_back(margin > 0 ? 1 : -1);
  }
  localsgd::ParamMap with_bias;
  with_bias.set("bias", "true");
  const auto r = core::solve(*objective("logreg", centred, with_bias), centred.view());
  const auto s = core::solve(*objective("logreg", shifted, with_bias), shifted.view());
  ASSERT_TRUE(r.converged) << core::unconverged_message(r);
  EXPECT_EQ(s.method, "newton-cg");
  EXPECT_TRUE(s.converged) << core::unconverged_message(s);
  EXPECT_NEAR(s.fstar, r.fstar, 1e-8 * r.fstar);
}

TEST(Solve, RefusesNonConvexObjectives) {
  const auto r = localsgd::testing::run_cli({"solve", "--plugin", "mlp"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("does not declare itself convex"), std::string::npos) << r.err;
}

TEST(Solve, SoftmaxOnDnaTakesTheNewtonCgPath) {
  LOCALSGD_REQUIRE_DATA_FILE(data_file("dna.scale"));
  const auto data = read("dna.scale");
  const auto f = objective("softmax", data);
  const auto r = core::solve(*f, data.view());
  EXPECT_EQ(r.method, "newton-cg");
  const auto lbfgs = lbfgs_solve(*f, data.view());
  EXPECT_NEAR(lbfgs.fstar, r.fstar, 1e-10 * r.fstar);
  EXPECT_LT(r.grad_norm * r.grad_norm / (2 * f->curvature().mu), 1e-12 * r.fstar);
}

// Dense rows make the Newton-Cholesky Hessian the long part of an iteration
// (n d² / 2 multiply-adds): the solver must tell its caller of that work as it goes.
localsgd::Dataset dense_synthetic(int rows, int cols) {
  return core::load_dataset(
      "", "synthetic",
      localsgd::ParamMap(
          {{"n", std::to_string(rows)}, {"d", std::to_string(cols)}, {"density", "1"}}));
}

struct StopHere {};

TEST(Solve, ALongIterationIsToldOfItsWorkAndCanBeStoppedInside) {
  const auto data = dense_synthetic(2000, 300);  // 90e6 multiply-adds for one Hessian
  const auto f = objective("logreg", data);
  std::int64_t work_before_first = 0, iterations = 0;
  core::SolveOptions options;
  options.on_iteration = [&](const core::SolveIteration&) { ++iterations; };
  options.on_work = [&](std::int64_t iteration, const char* method) {
    EXPECT_STREQ(method, "newton-cholesky");
    if (iterations == 0) {
      EXPECT_EQ(iteration, 0);
      ++work_before_first;
    }
  };
  const auto r = core::solve(*f, data.view(), options);
  EXPECT_TRUE(r.converged);
  EXPECT_GE(work_before_first, 2000 / 128) << "a call per block of the Hessian's rows";
  // A caller that throws from the work stops the solve inside its first iteration.
  iterations = 0;
  std::int64_t calls = 0;
  options.on_work = [&](std::int64_t, const char*) {
    if (++calls == 10) throw StopHere{};
  };
  EXPECT_THROW(core::solve(*f, data.view(), options), StopHere);
  EXPECT_EQ(iterations, 0);
}

// Dense rows take the rank-k update path of the Hessian (sparse ones, as w8a's, the
// entry-by-entry one): Newton with it must find L-BFGS's optimum (gradients only), with
// and without the intercept, whose column the dense blocks carry too.
TEST(Solve, DenseHessiansAgreeWithLbfgs) {
  const auto data = dense_synthetic(3000, 120);
  for (const char* bias : {"false", "true"}) {
    SCOPED_TRACE(std::string("bias=") + bias);
    localsgd::ParamMap params;
    params.set("bias", bias);
    const auto f = objective("logreg", data, params);
    const auto newton = core::solve(*f, data.view());
    EXPECT_EQ(newton.method, "newton-cholesky");
    EXPECT_TRUE(newton.converged);
    EXPECT_LE(newton.iterations, 7) << "an exact Hessian converges quadratically (5-6 here)";
    const auto lbfgs = lbfgs_solve(*f, data.view());
    EXPECT_NEAR(newton.fstar, lbfgs.fstar, 1e-11 * lbfgs.fstar);
    EXPECT_LT(relative_distance(newton.x, lbfgs.x), 1e-5);
    EXPECT_LT(newton.grad_norm, 1e-12);
  }
}

// Below the Cholesky dimension, Newton-Cholesky is taken only where building and factoring
// H costs less than about 50 CG products a step: few rows in 2000 dimensions go to CG
// (w8a, d = 300, stays with Cholesky: W8aLogregMatchesTheKnownOptimum).
TEST(Solve, CholeskyOnlyWhereItPays) {
  const auto data = dense_synthetic(300, 2000);
  const auto f = objective("logreg", data);
  const auto r = core::solve(*f, data.view());
  EXPECT_EQ(r.method, "newton-cg");
  const auto lbfgs = lbfgs_solve(*f, data.view());
  EXPECT_NEAR(r.fstar, lbfgs.fstar, 1e-11 * lbfgs.fstar);
  const auto narrow = dense_synthetic(4000, 120);
  EXPECT_EQ(core::solve(*objective("logreg", narrow), narrow.view()).method, "newton-cholesky");
}

// Multiclass data whose feature scales span 1e-2 to 1e4, all far from centred: the
// Hessian's scales span 1e12, as on real unscaled data (e.g. raw counts beside ratios).
localsgd::Dataset unscaled_multiclass(int rows, int cols, int classes, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> exponent(-2.0, 4.0);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_int_distribution<int> label(0, classes - 1);
  std::vector<double> scale(static_cast<std::size_t>(cols));
  for (double& s : scale) s = std::pow(10.0, exponent(rng));
  std::vector<std::vector<double>> centre(static_cast<std::size_t>(classes));
  for (auto& c : centre)
    for (int j = 0; j < cols; ++j) c.push_back(normal(rng));
  localsgd::Dataset data;
  data.cols = cols;
  for (int i = 0; i < rows; ++i) {
    const int y = label(rng);
    for (int j = 0; j < cols; ++j) {
      const auto uj = static_cast<std::size_t>(j);
      data.index.push_back(j);
      data.value.push_back((centre[static_cast<std::size_t>(y)][uj] + 1.5 * normal(rng) + 3) *
                           scale[uj]);
    }
    data.row_ptr.push_back(static_cast<std::int64_t>(data.index.size()));
    data.label.push_back(y + 1);
  }
  return data;
}

// Independent truth for a small model: damped Newton with the Hessian built column by
// column from the objective's products and factored by Eigen (no CG, no preconditioner).
std::vector<double> dense_newton(const localsgd::Objective& f, const localsgd::DataView& data) {
  const auto d = static_cast<Eigen::Index>(f.dimension());
  std::vector<double> x(static_cast<std::size_t>(d), 0.0), g(x.size()), column(x.size()),
      unit(x.size(), 0.0), trial(x.size()), trial_g(x.size());
  std::vector<std::int64_t> rows(static_cast<std::size_t>(data.rows()));
  std::iota(rows.begin(), rows.end(), std::int64_t{0});
  double fx = f.loss_and_gradient(data, rows, x, g);
  for (int iteration = 0; iteration < 100; ++iteration) {
    Eigen::MatrixXd H(d, d);
    for (Eigen::Index j = 0; j < d; ++j) {
      unit[static_cast<std::size_t>(j)] = 1;
      f.hessian_vector_product(data, x, unit, column);
      unit[static_cast<std::size_t>(j)] = 0;
      H.col(j) = Eigen::Map<const Eigen::VectorXd>(column.data(), d);
    }
    const Eigen::VectorXd p = -H.ldlt().solve(Eigen::Map<const Eigen::VectorXd>(g.data(), d));
    double t = 1, f_trial = 0;
    for (; t > 1e-12; t /= 2) {
      for (Eigen::Index j = 0; j < d; ++j)
        trial[static_cast<std::size_t>(j)] = x[static_cast<std::size_t>(j)] + t * p(j);
      f_trial = f.loss_and_gradient(data, rows, trial, trial_g);
      if (f_trial < fx) break;
    }
    if (!(f_trial < fx)) break;  // no progress left at double precision
    x = trial, g = trial_g, fx = f_trial;
  }
  return x;
}

// core::solve, counting the work it tells of (CG products and line-search trials).
core::SolveResult solve_counting_work(const localsgd::Objective& f, const localsgd::DataView& data,
                                      std::int64_t& work) {
  core::SolveOptions options;
  options.on_work = [&](std::int64_t, const char*) { ++work; };
  return core::solve(f, data, options);
}

// Newton-CG preconditions its conjugate gradients with the features' whitening: without
// it this solve ran 500 Newton iterations of thousands of products each and did not
// converge (a 2000 x 20, 10-class instance took 6.5 minutes), and L-BFGS stopped after
// 25,000 iterations short of the optimum (here: 1,636 products before, 59 now).
TEST(Solve, UnscaledFeaturesAndManyClassesTakeFewProducts) {
  const auto data = unscaled_multiclass(600, 12, 8, 5);
  const auto f = objective("softmax", data);
  std::int64_t products = 0;
  const auto r = solve_counting_work(*f, data.view(), products);
  EXPECT_EQ(r.method, "newton-cg");
  EXPECT_TRUE(r.converged) << core::unconverged_message(r);
  EXPECT_LE(r.iterations, 30);
  EXPECT_LT(products, 200) << "CG products and line-search trials (59 here; 1636 unpreconditioned)";
  const auto truth = dense_newton(*f, data.view());
  const double fstar = f->value(data.view(), truth);
  EXPECT_NEAR(r.fstar, fstar, 1e-10 * fstar);
  EXPECT_LT(relative_distance(r.x, truth), 1e-4);
  // L-BFGS, preconditioned alike, finds the same optimum.
  const auto lbfgs = lbfgs_solve(*f, data.view());
  EXPECT_TRUE(lbfgs.converged) << core::unconverged_message(lbfgs);
  EXPECT_NEAR(lbfgs.fstar, fstar, 1e-9 * fstar);
}

// Where the classes separate, the loss's curvature c falls far below 1 and the whitening
// follows it (that of G + (lambda / c) I): 132 products here, 288 with that of G + lambda I.
TEST(Solve, ThePreconditionerFollowsTheLossCurvature) {
  const auto data = unscaled_multiclass(1000, 14, 30, 1);
  const auto f = objective("softmax", data);
  std::int64_t products = 0;
  const auto r = solve_counting_work(*f, data.view(), products);
  EXPECT_TRUE(r.converged) << core::unconverged_message(r);
  EXPECT_LT(products, 200);
  const auto lbfgs = lbfgs_solve(*f, data.view());
  EXPECT_NEAR(lbfgs.fstar, r.fstar, 1e-9 * r.fstar);
}

TEST(Solve, NewtonCgAndLbfgsAreToldOfTheirWorkToo) {
  LOCALSGD_REQUIRE_DATA_FILE(data_file("dna.scale"));
  const auto data = read("dna.scale");
  const auto f = objective("softmax", data);
  const NoSecondOrder first_order(*f);
  const std::vector<const localsgd::Objective*> objectives{f.get(), &first_order};
  for (const localsgd::Objective* objective : objectives) {
    std::int64_t work = 0, iterations = 0;
    core::SolveOptions options;
    options.on_iteration = [&](const core::SolveIteration&) { ++iterations; };
    options.on_work = [&](std::int64_t, const char*) { ++work; };
    const auto r = core::solve(*objective, data.view(), options);
    SCOPED_TRACE(r.method);
    EXPECT_GT(iterations, 0);
    EXPECT_GT(work, iterations) << "CG's products or the line search's trials";
  }
}

struct Interrupted {
  std::string rc, err;
};

// Runs `localsgd ARGS` (with XDG_CACHE_HOME in `dir`: no f* of an earlier run is found),
// sends SIGINT once its standard error holds `cue` (or the process has ended; no cue: after
// 0.5 s), and waits for it. Cued, not timed, so a slow build (sanitizers) tests the same.
Interrupted interrupt_cli(const std::string& args, const std::string& cue,
                          const localsgd::testing::TempDir& dir) {
  const std::string err = (dir.path() / "err").string();
  // The signal goes only once the process handles it (SigCgt: a sanitizer build on a
  // loaded machine can take longer than the 0.5 s to get there).
  const std::string command =
      "bash -c 'XDG_CACHE_HOME=" + dir.path().string() + " " + std::string(LOCALSGD_CLI) + " " +
      args + " 2>" + err + " & pid=$!; " +
      "for i in $(seq 2000); do m=$(grep SigCgt /proc/$pid/status " +
      "2>/dev/null | cut -f2); [ -n \"$m\" ] && (( 0x$m & 2 )) && " + "break; sleep 0.01; done; " +
      (cue.empty() ? "sleep 0.5"
                   : "while kill -0 $pid 2>/dev/null && ! grep -qF \"" + cue + "\" " + err +
                         "; do sleep 0.05; done") +
      "; kill -INT $pid; wait $pid; echo $? >" + (dir.path() / "rc").string() + "'";
  EXPECT_EQ(std::system(command.c_str()), 0);
  return {localsgd::testing::read_text(dir.path() / "rc"), localsgd::testing::read_text(err)};
}

const std::string kLongFirstIteration =
    "--plugin logreg --reader synthetic --reader-param n=4000 --reader-param d=2500 "
    "--reader-param density=1";

// SIGINT while the first Newton step builds a large dense Hessian (the progress line says
// "(first step)" only while it does): the solve stops in that iteration with exit 130 and
// says where, nothing written. (That it stops inside the iteration, not at its end, is
// ALongIterationIsToldOfItsWorkAndCanBeStoppedInside's: a throw from the work.)
TEST(Solve, ASignalStopsTheSolveInsideALongIteration) {
  localsgd::testing::TempDir dir;
  const std::string model = (dir.path() / "x.model").string();
  const auto r = interrupt_cli("solve " + kLongFirstIteration + " --progress always --out " + model,
                               "(first step)", dir);
  EXPECT_EQ(r.rc, "130\n") << r.err;
  EXPECT_NE(r.err.find("(first step)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("solve interrupted by SIGINT at iteration 0 of newton-cholesky; " + model +
                       " was not written"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(model));
}

// While a command loads its data (here a FIFO no one writes) a signal ends it at once, with
// exit 130 and one line saying so: solve takes signals gracefully only later, and train,
// which takes them gracefully from its start (it stops at a step with its model), has
// nothing to keep yet; holding the signal until the data is in would misreport it as
// stopping what follows (f*'s solve, step 0).
TEST(Solve, ASignalWhileLoadingEndsAtOnceWithALine) {
  for (const std::string command : {"solve", "train"}) {
    localsgd::testing::TempDir dir;
    const std::string fifo = (dir.path() / "data.svm").string();
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    const auto r = interrupt_cli(command + " --plugin logreg --data " + fifo, "", dir);
    EXPECT_EQ(r.rc, "130\n") << command << ": " << r.err;
    EXPECT_EQ(r.err, "localsgd: interrupted by SIGINT\n") << command;
  }
}

// train --target-rel solves for f* before it trains (its own cache: none found) and says,
// once the solve has taken 2 s, what the wait is for: a signal then stops that solve in the
// iteration it is in, with nothing written.
TEST(Solve, ASignalStopsTrainsFstarSolve) {
  localsgd::testing::TempDir dir;
  const std::string model = (dir.path() / "x.model").string();
  const auto r = interrupt_cli("train " + kLongFirstIteration + " --target-rel 0.01 --out " + model,
                               "localsgd: computing f* by newton-cholesky", dir);
  EXPECT_EQ(r.rc, "130\n") << r.err;
  // Which iteration the 2 s fall in depends on the machine; the solve takes four.
  const std::string said = "localsgd: error: interrupted by SIGINT while computing f* (iteration ";
  const std::size_t at = r.err.find(said);
  ASSERT_NE(at, std::string::npos) << r.err;
  EXPECT_EQ(r.err.substr(at + said.size() + 1), " of newton-cholesky); no model written\n")
      << r.err;
  EXPECT_NE(std::string("0123").find(r.err[at + said.size()]), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(model));
}

}  // namespace
