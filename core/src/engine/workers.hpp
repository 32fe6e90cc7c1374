// The two kinds of logical worker the engine runs. Both keep the model x_t^k and the
// weighted sum A^k = sum_t w_t x_t^k of their own iterates, and expose the same small
// interface to the engine: run (local steps), add_model_to and add_accumulator_to (read
// x and A), and reset_later: after a sync the worker is handed its new model but adopts
// it only at the start of its next local phase, on the thread that runs that phase, so
// the syncing thread writes nothing but the average.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <tbb/cache_aligned_allocator.h>

#include "localsgd/core/engine/engine_state.hpp"
#include "localsgd/core/engine/rng.hpp"
#include "localsgd/core/engine/sampling.hpp"
#include "localsgd/core/engine/step_size.hpp"
#include "localsgd/core/errors.hpp"
#include "localsgd/params.hpp"
#include "localsgd/sdk.hpp"

namespace localsgd::core {

// Workers run on different threads and write their state every step. Each worker object
// and each of its arrays starts on its own cache line and fills whole lines, so two
// workers never share one: false sharing between neighbours made two threads run at
// two thirds of their speed.
template <class T>
using CacheVector = std::vector<T, tbb::cache_aligned_allocator<T>>;

// What every step needs that is shared by all workers.
struct StepEnvironment {
  const DataView& data;
  const StepSize& step_size;
  std::int64_t batch;
  double shift;  // a in w_t = (a+t)^2
};

inline void prefetch_row(const DataView& data, std::int64_t i) {
  const auto begin = static_cast<std::size_t>(data.row_ptr[static_cast<std::size_t>(i)]);
  const auto end = static_cast<std::size_t>(data.row_ptr[static_cast<std::size_t>(i) + 1]);
  for (std::size_t j = begin; j < end; j += 8) __builtin_prefetch(data.value.data() + j);
  for (std::size_t j = begin; j < end; j += 16) __builtin_prefetch(data.index.data() + j);
}

inline double iterate_weight(double shift, std::int64_t t) {
  const double at = shift + static_cast<double>(t);
  return at * at;
}

// Sparse path for f(x) = (1/n) sum phi(a_i.w + beta, y_i) + (lambda/2)|w|^2.
// w = s·v: the decay (1 - eta lambda) of a step multiplies s, so only the batch's stored
// entries of v change. The weighted sum is A = u + c·v with c = sum of w_t s_t since
// the last flush; when v[j] changes by delta, u[j] -= c·delta keeps A unchanged. The
// intercept beta (when the objective has one) is a plain scalar, never decayed.
class alignas(64) MarginWorker {
 public:
  MarginWorker(const MarginObjective& objective, std::span<const double> x0, RowSampler sampler,
               std::int64_t batch)
      : objective_(objective),
        lambda_(objective.lambda()),
        intercept_(objective.has_intercept()),
        sampler_(sampler),
        v_(x0.begin(), x0.begin() + static_cast<std::ptrdiff_t>(objective.regularised_size(x0))),
        bias_(intercept_ ? x0.back() : 0.0),
        u_(v_.size(), 0.0),
        rows_(static_cast<std::size_t>(batch)),
        next_rows_(rows_.size()),
        z_(rows_.size()),
        y_(rows_.size()),
        dphi_(rows_.size()) {}

  void run(const StepEnvironment& env, std::int64_t first_step, std::int64_t end_step) {
    adopt_pending_model();
    const double inv_batch = 1.0 / static_cast<double>(env.batch);
    double* v = v_.data();
    double* u = u_.data();
    if (first_step < end_step) sampler_.draw(first_step, rows_);
    for (std::int64_t t = first_step; t < end_step; ++t) {
      const double w = iterate_weight(env.shift, t);
      c_ += w * s_;  // A += w_t x_t
      bias_sum_ += w * bias_;
      const double eta = env.step_size.at(t);
      // Rows are random, so their first touch misses the cache: draw the next step's
      // indices now and prefetch their entries while this step computes.
      if (t + 1 < end_step) {
        sampler_.draw(t + 1, next_rows_);
        for (std::int64_t i : next_rows_) prefetch_row(env.data, i);
      }
      for (std::size_t i = 0; i < rows_.size(); ++i) {
        z_[i] = s_ * env.data.row(rows_[i]).dot(v) + bias_;
        y_[i] = env.data.label[static_cast<std::size_t>(rows_[i])];
      }
      objective_.margin_derivatives(z_, y_, dphi_);

      const double decay = 1.0 - eta * lambda_;
      if (!(decay > 0.0))
        throw RuntimeFailure("step size " + format_number(eta) + " at step " + std::to_string(t) +
                             " is too large for lambda " + format_number(lambda_) +
                             " (needs eta*lambda < 1)");
      s_ *= decay;
      const double scale = -eta * inv_batch / s_;
      double dphi_sum = 0.0;
      for (std::size_t i = 0; i < rows_.size(); ++i) {
        const double coefficient = scale * dphi_[i];
        dphi_sum += dphi_[i];
        if (coefficient == 0.0) continue;
        const SparseRow row = env.data.row(rows_[i]);
        for (std::int64_t j = 0; j < row.size; ++j) {
          const double delta = coefficient * row.value[j];
          v[row.index[j]] += delta;
          u[row.index[j]] -= c_ * delta;
        }
        if (tracking_) track(row);
      }
      if (intercept_) bias_ -= eta * inv_batch * dphi_sum;
      // Renormalise long before v leaves double range: the weighted sum u + c·v loses
      // about log10(1/s) digits to cancellation, so keep s above 1e-3.
      if (s_ < 1e-3) normalize();
      rows_.swap(next_rows_);
    }
  }

  void add_model_to(std::span<double> out, std::size_t begin, std::size_t end) const {
    const std::size_t weights_end = std::min(end, v_.size());
    if (pending_ != nullptr) {
      for (std::size_t j = begin; j < end; ++j) out[j] += pending_[j];
      return;
    }
    for (std::size_t j = begin; j < weights_end; ++j) out[j] += s_ * v_[j];
    if (intercept_ && begin <= v_.size() && v_.size() < end) out[v_.size()] += bias_;
  }
  // A = u + c·v whether or not a new model is pending: adopting one leaves A unchanged.
  void add_accumulator_to(std::span<double> out) const {
    for (std::size_t j = 0; j < v_.size(); ++j) out[j] += u_[j] + c_ * v_[j];
    if (intercept_) out[v_.size()] += bias_sum_;
  }
  // `x` must stay valid until the next run() starts.
  void reset_later(const double* x) {
    pending_ = x;
    clear_touched();  // a dense adoption rewrites every coordinate
  }

  // Sparse syncs (see SyncRunner). All workers of a synchronous run share the step-size
  // sequence, so their scales s are equal; when they also agreed on every coordinate at
  // the last sync, the mean of their models differs from each one only where some worker
  // touched v since, and there the mean of the x = s·v is s·(mean of the v).
  void enable_tracking() {
    tracking_ = true;
    marked_.assign(v_.size(), 0);
  }
  std::span<const std::int32_t> touched() const { return touched_; }
  double scale() const { return s_; }
  double bias() const { return bias_; }
  const double* weights() const { return v_.data(); }
  // Adopts v_j = mean for one coordinate; the weighted sum A = u + c·v is kept by
  // u_j -= c·(change of v_j). The sync calls it for every touched coordinate, then
  // end_sparse_adoption once.
  void adopt_coordinate(std::size_t j, double mean) {
    u_[j] -= c_ * (mean - v_[j]);
    v_[j] = mean;
  }
  void end_sparse_adoption(double mean_bias) {
    bias_ = mean_bias;
    clear_touched();
  }

  // Checkpoints: the representation itself (s, c, the intercept and its weighted sum,
  // v, u), not x = s·v, so a resumed run rounds exactly as the uninterrupted one. The
  // pending model is the pool's business (pending()).
  const double* pending() const { return pending_; }
  void save(WorkerState& state) const {
    state.reals = {s_, c_, bias_, bias_sum_};
    state.reals.insert(state.reals.end(), v_.begin(), v_.end());
    state.reals.insert(state.reals.end(), u_.begin(), u_.end());
    state.touched.assign(touched_.begin(), touched_.end());
  }
  // `tracked`: whether the saved run listed touched coordinates. If it did not (a run over
  // several processes, or one without sparse syncs) and this one does, every coordinate
  // counts as touched, so the next sync is a full one.
  void restore(const WorkerState& state, const double* pending, bool tracked) {
    if (state.reals.size() != 4 + 2 * v_.size())
      throw std::invalid_argument("a worker's saved state does not fit the model");
    s_ = state.reals[0];
    c_ = state.reals[1];
    bias_ = state.reals[2];
    bias_sum_ = state.reals[3];
    const auto v_begin = state.reals.begin() + 4;
    const auto u_begin = v_begin + static_cast<std::ptrdiff_t>(v_.size());
    std::copy(v_begin, u_begin, v_.begin());
    std::copy(u_begin, state.reals.end(), u_.begin());
    clear_touched();
    for (std::int64_t j : state.touched) {
      if (j < 0 || static_cast<std::size_t>(j) >= v_.size())
        throw std::invalid_argument("a worker's saved coordinates are out of range");
      if (tracking_ && !marked_[static_cast<std::size_t>(j)]) {
        marked_[static_cast<std::size_t>(j)] = 1;
        touched_.push_back(static_cast<std::int32_t>(j));
      }
    }
    if (tracking_ && !tracked)
      for (std::size_t j = 0; j < v_.size(); ++j)
        if (!marked_[j]) {
          marked_[j] = 1;
          touched_.push_back(static_cast<std::int32_t>(j));
        }
    pending_ = pending;
  }

 private:
  void track(const SparseRow& row) {
    for (std::int64_t j = 0; j < row.size; ++j) {
      const auto index = static_cast<std::size_t>(row.index[j]);
      if (!marked_[index]) {
        marked_[index] = 1;
        touched_.push_back(row.index[j]);
      }
    }
  }
  void clear_touched() {
    for (std::int32_t j : touched_) marked_[static_cast<std::size_t>(j)] = 0;
    touched_.clear();
  }

  void adopt_pending_model() {
    if (pending_ == nullptr) return;
    flush();
    v_.assign(pending_, pending_ + v_.size());
    if (intercept_) bias_ = pending_[v_.size()];
    s_ = 1.0;
    pending_ = nullptr;
  }
  void flush() {
    for (std::size_t j = 0; j < v_.size(); ++j) u_[j] += c_ * v_[j];
    c_ = 0.0;
  }
  void normalize() {
    flush();
    for (double& value : v_) value *= s_;
    s_ = 1.0;
  }

  const MarginObjective& objective_;
  const double lambda_;
  const bool intercept_;
  RowSampler sampler_;
  CacheVector<double> v_;
  double s_ = 1.0;
  double bias_;
  CacheVector<double> u_;
  double c_ = 0.0;
  double bias_sum_ = 0.0;            // sum of w_t beta_t
  const double* pending_ = nullptr;  // the model to adopt before the next step
  // Coordinates of v changed since the last sync, when sparse syncs are on.
  bool tracking_ = false;
  CacheVector<std::uint8_t> marked_;
  CacheVector<std::int32_t> touched_;
  // Per-step scratch, allocated once.
  CacheVector<std::int64_t> rows_, next_rows_;
  CacheVector<double> z_, y_, dphi_;
};

// Dense path for any objective: x -= eta * (mean batch gradient), O(d) per step.
class alignas(64) DenseWorker {
 public:
  DenseWorker(const Objective& objective, std::span<const double> x0, RowSampler sampler,
              std::int64_t batch)
      : objective_(objective),
        sampler_(sampler),
        x_(x0.begin(), x0.end()),
        sum_(x0.size(), 0.0),
        gradient_(x0.size()),
        rows_(static_cast<std::size_t>(batch)) {}

  void run(const StepEnvironment& env, std::int64_t first_step, std::int64_t end_step) {
    if (pending_ != nullptr) x_.assign(pending_, pending_ + x_.size());
    pending_ = nullptr;
    for (std::int64_t t = first_step; t < end_step; ++t) {
      const double w = iterate_weight(env.shift, t);
      for (std::size_t j = 0; j < x_.size(); ++j) sum_[j] += w * x_[j];
      const double eta = env.step_size.at(t);
      sampler_.draw(t, rows_);
      objective_.loss_and_gradient(env.data, rows_, x_, gradient_);
      for (std::size_t j = 0; j < x_.size(); ++j) x_[j] -= eta * gradient_[j];
    }
  }

  void add_model_to(std::span<double> out, std::size_t begin, std::size_t end) const {
    const double* x = pending_ != nullptr ? pending_ : x_.data();
    for (std::size_t j = begin; j < end; ++j) out[j] += x[j];
  }
  void add_accumulator_to(std::span<double> out) const {
    for (std::size_t j = 0; j < out.size(); ++j) out[j] += sum_[j];
  }
  void reset_later(const double* x) { pending_ = x; }

  // Checkpoints: x and the weighted sum; the pending model is the pool's.
  const double* pending() const { return pending_; }
  void save(WorkerState& state) const {
    state.reals.assign(x_.begin(), x_.end());
    state.reals.insert(state.reals.end(), sum_.begin(), sum_.end());
  }
  void restore(const WorkerState& state, const double* pending, bool /*tracked*/) {
    if (state.reals.size() != 2 * x_.size())
      throw std::invalid_argument("a worker's saved state does not fit the model");
    const auto middle = state.reals.begin() + static_cast<std::ptrdiff_t>(x_.size());
    std::copy(state.reals.begin(), middle, x_.begin());
    std::copy(middle, state.reals.end(), sum_.begin());
    pending_ = pending;
  }

 private:
  const Objective& objective_;
  RowSampler sampler_;
  CacheVector<double> x_, sum_, gradient_;
  CacheVector<std::int64_t> rows_;
  const double* pending_ = nullptr;
};

}  // namespace localsgd::core
