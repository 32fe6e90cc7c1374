// Step-size rules: their formulas, defaults and refusals.
#include <gtest/gtest.h>

#include <cmath>

#include "localsgd/core/errors.hpp"
#include "localsgd/core/engine/step_size.hpp"

namespace {

namespace core = localsgd::core;

// An objective that only reports curvature.
class Curved final : public localsgd::Objective {
 public:
  explicit Curved(localsgd::Curvature c) : c_(c) {}
  std::int64_t dimension() const override { return 1; }
  localsgd::Curvature curvature() const override { return c_; }
  double loss_and_gradient(const localsgd::DataView&, std::span<const std::int64_t>,
                           std::span<const double>, std::span<double>) const override {
    return 0;
  }
  double value(const localsgd::DataView&, std::span<const double>) const override { return 0; }
  Prediction prediction_kind() const override { return Prediction::value; }
  double predict(const localsgd::SparseRow&, std::span<const double>) const override { return 0; }

 private:
  localsgd::Curvature c_;
};

std::unique_ptr<core::StepSize> make(const std::string& name, const localsgd::Objective& f,
                                     localsgd::ParamMap params = {}, std::int64_t period = 8) {
  return core::make_step_size(name, params, {f, 4, 1000, period});
}

TEST(StepSize, PaperRuleIsFourOverMuTimesShiftedTime) {
  const Curved f({2.0, 10.0, 0.01, true});  // kappa = 200, a = max(3200, H)
  const auto rule = make("paper", f);
  ASSERT_TRUE(rule->shift().has_value());
  EXPECT_DOUBLE_EQ(*rule->shift(), 3200.0);
  EXPECT_DOUBLE_EQ(rule->at(0), 4.0 / (0.01 * 3200.0));
  EXPECT_DOUBLE_EQ(rule->at(800), 4.0 / (0.01 * 4000.0));
  // With a tiny condition number the period H dominates the shift.
  const Curved well({1.0, 1.0, 1.0, true});
  EXPECT_DOUBLE_EQ(*make("paper", well, {}, 64)->shift(), 64.0);
}

TEST(StepSize, InverseTimeIsCappedByEta0AndContinuesAcrossRounds) {
  const Curved f({1.0, 4.0, 0.5, true});
  localsgd::ParamMap p;
  p.set("eta0", "0.3");
  p.set("c", "2");
  const auto rule = make("invtime", f, p);
  EXPECT_DOUBLE_EQ(rule->at(0), 0.3);                   // min(0.3, 2/(0.5*1)) = 0.3
  EXPECT_DOUBLE_EQ(rule->at(99), 2.0 / (0.5 * 100.0));  // 0.04
  EXPECT_FALSE(rule->shift().has_value());
}

TEST(StepSize, DefaultEta0IsHalfOverMinibatchSmoothness) {
  const Curved f({1.0, 4.0, 0.5, true});
  const double Lb = core::minibatch_smoothness(1.0, 4.0, 1000, 4);
  // n(b-1)/(b(n-1)) L + (n-b)/(b(n-1)) L_max
  EXPECT_DOUBLE_EQ(Lb, 1000.0 * 3 / (4 * 999.0) * 1.0 + 996.0 / (4 * 999.0) * 4.0);
  EXPECT_DOUBLE_EQ(make("invtime", f)->at(0), 1.0 / (2 * Lb));
  EXPECT_DOUBLE_EQ(make("constant", f)->at(12345), 1.0 / (2 * Lb));
  // b = 1 gives L_max, b = n gives L.
  EXPECT_DOUBLE_EQ(core::minibatch_smoothness(1.0, 4.0, 1000, 1), 4.0);
  EXPECT_DOUBLE_EQ(core::minibatch_smoothness(1.0, 4.0, 1000, 1000), 1.0);
}

TEST(StepSize, RulesNeedingUnknownConstantsAreRefused) {
  const Curved no_mu({1.0, 4.0, localsgd::kUnknown, true});
  EXPECT_THROW(make("paper", no_mu), localsgd::UsageError);
  EXPECT_THROW(make("invtime", no_mu), localsgd::UsageError);
  localsgd::ParamMap p;
  p.set("eta", "0.1");
  EXPECT_DOUBLE_EQ(make("constant", no_mu, p)->at(3), 0.1);
}

TEST(StepSize, UnknownRulesAndKeysAreUsageErrors) {
  const Curved f({1.0, 4.0, 0.5, true});
  try {
    make("adam", f);
    FAIL();
  } catch (const localsgd::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("invtime, paper, constant"), std::string::npos);
  }
  localsgd::ParamMap p;
  p.set("eta", "0.1");
  EXPECT_THROW(make("invtime", f, p), localsgd::UsageError);
  p = {};
  p.set("eta0", "-1");
  EXPECT_THROW(make("invtime", f, p), localsgd::UsageError);
}

}  // namespace

namespace {

TEST(StepSize, SqrtStepDecayAndWarmUpFollowTheirFormulas) {
  const Curved f({1.0, 4.0, 0.5, true});
  localsgd::ParamMap p;
  p.set("eta0", "0.8");
  const auto sqrt_rule = make("sqrt", f, p);
  EXPECT_DOUBLE_EQ(sqrt_rule->at(0), 0.8);
  EXPECT_DOUBLE_EQ(sqrt_rule->at(15), 0.2);
  p.set("gamma", "0.5");
  p.set("every", "10");
  const auto step = make("step", f, p);
  EXPECT_DOUBLE_EQ(step->at(9), 0.8);
  EXPECT_DOUBLE_EQ(step->at(10), 0.4);
  EXPECT_DOUBLE_EQ(step->at(35), 0.1);
  p.set("warmup", "4");
  const auto warm = make("step", f, p);
  EXPECT_DOUBLE_EQ(warm->at(0), 0.2);
  EXPECT_DOUBLE_EQ(warm->at(2), 0.6);
  EXPECT_DOUBLE_EQ(warm->at(3), 0.8);
  EXPECT_DOUBLE_EQ(warm->at(10), 0.4);
  EXPECT_NE(warm->describe().find("warmup(4)"), std::string::npos);
  localsgd::ParamMap no_every;
  EXPECT_THROW(make("step", f, no_every), localsgd::UsageError);
}

}  // namespace
