#include "localsgd/core/engine/step_size.hpp"

#include <algorithm>
#include <cmath>

#include "localsgd/core/errors.hpp"
#include "plugins/param_keys.hpp"

namespace localsgd::core {
namespace {

// Exact values (the shortest text that reads back as the same double): the description
// is a checkpoint's and the MPI ranks' record of the rule, where eta=0.5 and
// eta=0.50000001 must differ, and a user can copy it back to --lr-param.
std::string format(const char* name, std::initializer_list<std::pair<const char*, double>> kv) {
  std::string out = std::string(name) + '(';
  bool first = true;
  for (const auto& [k, v] : kv) {
    out += (first ? "" : ",") + std::string(k) + '=' + format_number(v);
    first = false;
  }
  return out + ')';
}

// `remedy` names options that work without the constant (an explicit step size), so a
// refusal never sends the user to another refusal.
double require(double value, const char* what, const std::string& rule, const std::string& remedy) {
  if (!std::isfinite(value) || value <= 0)
    throw UsageError("step size '" + rule + "' needs " + what +
                     ", which this objective does not report; " + remedy);
  return value;
}

// Rules that need mu or L can be replaced by one with an explicit step (ETA a number, e.g. 0.1).
const char* const kExplicitStep =
    "use --lr constant --lr-param eta=ETA or --lr sqrt --lr-param eta0=ETA";

class PaperStepSize final : public StepSize {
 public:
  PaperStepSize(double mu, double L, std::int64_t period)
      : mu_(mu), kappa_(L / mu), a_(std::max(16.0 * kappa_, static_cast<double>(period))) {}
  double at(std::int64_t t) const override { return 4.0 / (mu_ * (a_ + static_cast<double>(t))); }
  std::optional<double> shift() const override { return a_; }
  std::string describe() const override {
    return format("paper", {{"mu", mu_}, {"kappa", kappa_}, {"a", a_}});
  }

 private:
  double mu_, kappa_, a_;
};

class InverseTimeStepSize final : public StepSize {
 public:
  InverseTimeStepSize(double eta0, double c, double mu) : eta0_(eta0), c_(c), mu_(mu) {}
  double at(std::int64_t t) const override {
    return std::min(eta0_, c_ / (mu_ * static_cast<double>(t + 1)));
  }
  std::string describe() const override {
    return format("invtime", {{"eta0", eta0_}, {"c", c_}, {"mu", mu_}});
  }

 private:
  double eta0_, c_, mu_;
};

class ConstantStepSize final : public StepSize {
 public:
  explicit ConstantStepSize(double eta) : eta_(eta) {}
  double at(std::int64_t) const override { return eta_; }
  std::string describe() const override { return format("constant", {{"eta", eta_}}); }

 private:
  double eta_;
};

class SqrtStepSize final : public StepSize {
 public:
  explicit SqrtStepSize(double eta0) : eta0_(eta0) {}
  double at(std::int64_t t) const override { return eta0_ / std::sqrt(static_cast<double>(t + 1)); }
  std::string describe() const override { return format("sqrt", {{"eta0", eta0_}}); }

 private:
  double eta0_;
};

class StepDecayStepSize final : public StepSize {
 public:
  StepDecayStepSize(double eta0, double gamma, std::int64_t every)
      : eta0_(eta0), gamma_(gamma), every_(every) {}
  double at(std::int64_t t) const override {
    return eta0_ * std::pow(gamma_, static_cast<double>(t / every_));
  }
  std::string describe() const override {
    return format("step",
                  {{"eta0", eta0_}, {"gamma", gamma_}, {"every", static_cast<double>(every_)}});
  }

 private:
  double eta0_, gamma_;
  std::int64_t every_;
};

// Linear warm-up over the first W steps in front of any rule: eta_t * min(1, (t+1)/W).
class WarmUp final : public StepSize {
 public:
  WarmUp(std::unique_ptr<StepSize> rule, std::int64_t steps)
      : rule_(std::move(rule)), steps_(steps) {}
  double at(std::int64_t t) const override {
    const double ramp = std::min(1.0, static_cast<double>(t + 1) / static_cast<double>(steps_));
    return ramp * rule_->at(t);
  }
  std::optional<double> shift() const override { return rule_->shift(); }
  std::string describe() const override {
    return rule_->describe() + "+warmup(" + std::to_string(steps_) + ")";
  }

 private:
  std::unique_ptr<StepSize> rule_;
  std::int64_t steps_;
};

// 1/(2 L(b)): the default largest step, from the objective's curvature.
double default_eta0(const std::string& rule, const char* key, const StepSizeContext& ctx) {
  const Curvature c = ctx.objective.curvature();
  const double L_max =
      require(c.L_max, "L_max (to choose a default step size)", rule,
              std::string("give it: --lr-param ") + key + "=ETA (a number, e.g. 0.1)");
  const double L = std::isfinite(c.L) ? c.L : L_max;
  return 1.0 / (2.0 * minibatch_smoothness(L, L_max, ctx.rows, ctx.batch));
}

}  // namespace

double minibatch_smoothness(double L, double L_max, std::int64_t n, std::int64_t b) {
  if (n <= 1) return L_max;
  const double nd = static_cast<double>(n), bd = static_cast<double>(std::min(b, n));
  return nd * (bd - 1) / (bd * (nd - 1)) * L + (nd - bd) / (bd * (nd - 1)) * L_max;
}

namespace {

// What a rule's factory sees: eta0(key) is the given value, else default_eta0.
struct RuleArgs {
  const std::string& name;
  const ParamMap& params;
  const StepSizeContext& ctx;
  double eta0(const char* key) const {
    return params.has(key) ? params.positive_number(key, 0) : default_eta0(name, key, ctx);
  }
};

std::unique_ptr<StepSize> make_paper(const RuleArgs& a) {
  const Curvature c = a.ctx.objective.curvature();
  const double mu = require(c.mu, "the strong convexity mu", a.name, kExplicitStep);
  const double L = require(c.L, "the smoothness L", a.name, kExplicitStep);
  return std::make_unique<PaperStepSize>(mu, L, a.ctx.period);
}

std::unique_ptr<StepSize> make_invtime(const RuleArgs& a) {
  const double mu =
      require(a.ctx.objective.strong_convexity(), "the strong convexity mu", a.name, kExplicitStep);
  return std::make_unique<InverseTimeStepSize>(a.eta0("eta0"), a.params.positive_number("c", 1.0),
                                               mu);
}

std::unique_ptr<StepSize> make_constant(const RuleArgs& a) {
  return std::make_unique<ConstantStepSize>(a.eta0("eta"));
}

std::unique_ptr<StepSize> make_sqrt(const RuleArgs& a) {
  return std::make_unique<SqrtStepSize>(a.eta0("eta0"));
}

std::unique_ptr<StepSize> make_step_decay(const RuleArgs& a) {
  if (!a.params.has("every"))
    throw UsageError("step size 'step' needs --lr-param every=N (decay every N steps)");
  const double gamma = a.params.positive_number("gamma", 0.1);
  if (gamma > 1) throw UsageError("--lr-param gamma must be in (0, 1]");
  return std::make_unique<StepDecayStepSize>(a.eta0("eta0"), gamma,
                                             a.params.positive_integer("every", 1));
}

struct Rule {
  const char* name;
  std::vector<std::string> keys;  // "warmup" included: every rule takes it (make_step_size)
  std::unique_ptr<StepSize> (*make)(const RuleArgs&);
};

// The one list of rules: names for --help and errors, their keys, and the dispatch.
const std::vector<Rule>& rules() {
  static const std::vector<Rule> table = {
      {"invtime", {"eta0", "c", "warmup"}, make_invtime},
      {"paper", {"warmup"}, make_paper},
      {"constant", {"eta", "warmup"}, make_constant},
      {"sqrt", {"eta0", "warmup"}, make_sqrt},
      {"step", {"eta0", "gamma", "every", "warmup"}, make_step_decay},
  };
  return table;
}

std::unique_ptr<StepSize> make_base_rule(const std::string& name, const ParamMap& params,
                                         const StepSizeContext& ctx) {
  const auto& table = rules();
  const auto rule =
      std::find_if(table.begin(), table.end(), [&](const Rule& r) { return name == r.name; });
  if (rule == table.end())
    throw UsageError("unknown step size '" + name +
                     "'; available: " + join_names(step_size_names()));
  if (const auto key = first_unknown_key(params, rule->keys)) {
    const std::string names = join_names(rule->keys);
    throw UsageError("--lr-param " + *key + ": not a parameter of step size '" + name +
                     "' (known: " + (names.empty() ? "none" : names) + ")");
  }
  return rule->make({name, params, ctx});
}

}  // namespace

std::vector<std::string> step_size_names() {
  std::vector<std::string> names;
  for (const Rule& rule : rules()) names.emplace_back(rule.name);
  return names;
}

std::unique_ptr<StepSize> make_step_size(const std::string& name, const ParamMap& params,
                                         const StepSizeContext& ctx) {
  try {
    auto rule = make_base_rule(name, params, ctx);
    if (params.has("warmup"))
      return std::make_unique<WarmUp>(std::move(rule), params.positive_integer("warmup", 1));
    return rule;
  } catch (const ParamError& e) {
    throw UsageError(std::string("--lr-param ") + e.what());
  }
}

}  // namespace localsgd::core
