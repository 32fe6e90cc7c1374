#include "localsgd/core/run/callbacks.hpp"

#include <algorithm>
#include <cstddef>
#include <iomanip>
#include <sstream>

#include "localsgd/core/errors.hpp"
#include "localsgd/core/io/plot.hpp"

namespace localsgd::core {

bool TargetStop::reached(const Quality& q) const {
  const std::optional<double>& gap = relative_ ? q.rel_suboptimality : q.suboptimality;
  return gap && *gap <= eps_;
}

bool TargetStop::should_stop(const Progress& p) {
  const bool now = reached(p.quality);
  if (now && !reached_at_) reached_at_ = p.step;
  return now;
}

void TargetStop::on_end(const TrainSummary& summary) {
  if (!reached_at_ && reached(summary.quality)) reached_at_ = summary.steps;
}

nlohmann::ordered_json TargetStop::save_state() const {
  return reached_at_ ? nlohmann::ordered_json(*reached_at_) : nlohmann::ordered_json(nullptr);
}

void TargetStop::restore_state(const nlohmann::ordered_json& state) {
  if (state.is_number_integer()) reached_at_ = state.get<std::int64_t>();
}

void RateFitter::add(std::int64_t step, const std::optional<double>& gap) {
  if (!gap || (!steps_.empty() && step <= steps_.back())) return;
  steps_.push_back(step);
  gaps_.push_back(*gap);
  // Evaluations before step / kRateTailFactor can never be in the tail again (the last
  // step only grows): dropped in blocks, so memory and checkpoints stay bounded.
  const auto first =
      std::lower_bound(steps_.begin(), steps_.end(), static_cast<double>(step) / kRateTailFactor,
                       [](std::int64_t s, double from) { return static_cast<double>(s) < from; });
  const auto dropped = first - steps_.begin();
  if (dropped >= 64 && 2 * dropped >= static_cast<std::ptrdiff_t>(steps_.size())) {
    steps_.erase(steps_.begin(), first);
    gaps_.erase(gaps_.begin(), gaps_.begin() + dropped);
  }
}

void RateFitter::on_progress(const Progress& p) {
  add(p.step, p.quality.suboptimality);
}

void RateFitter::on_end(const TrainSummary& summary) {
  add(summary.steps, summary.quality.suboptimality);
  fit_ = fit_rate(steps_, gaps_);
}

nlohmann::ordered_json RateFitter::save_state() const {
  return {{"steps", steps_}, {"gaps", gaps_}};
}

void RateFitter::restore_state(const nlohmann::ordered_json& state) {
  steps_ = state.at("steps").get<std::vector<std::int64_t>>();
  gaps_ = state.at("gaps").get<std::vector<double>>();
}

nlohmann::ordered_json PlotCurve::save_state() const {
  return {{"suboptimality", suboptimality_}, {"curve", curve_}};
}

void PlotCurve::restore_state(const nlohmann::ordered_json& state) {
  suboptimality_ = state.at("suboptimality").get<bool>();
  curve_ = state.at("curve").get<std::vector<std::pair<double, double>>>();
}

void PlotCurve::on_progress(const Progress& p) {
  suboptimality_ = p.quality.suboptimality.has_value();
  curve_.emplace_back(p.epochs, suboptimality_ ? *p.quality.suboptimality : p.quality.objective);
}

void PlotCurve::on_end(const TrainSummary& summary) {
  const bool suboptimality = summary.quality.suboptimality.has_value();
  if (curve_.empty() || curve_.back().first < summary.epochs)
    curve_.emplace_back(summary.epochs,
                        suboptimality ? *summary.quality.suboptimality : summary.quality.objective);
  draw_curves(path_, "localsgd train: " + title_, "epochs",
              suboptimality ? "f(x_hat) - f*" : "f(x_hat)",
              {{run_label(summary.to_json()), curve_}});
}

}  // namespace localsgd::core
