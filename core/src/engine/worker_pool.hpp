// The workers this process runs, the last model they all agreed on, and the reductions
// over them that every runner needs (x̄ and x̂). Sums go over the local workers in worker
// order, then through the communicator, so they do not depend on which thread computes
// what.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "communicator.hpp"
#include "localsgd/core/engine/engine.hpp"
#include "localsgd/core/engine/engine_state.hpp"
#include "localsgd/core/errors.hpp"
#include "worker_state_exchange.hpp"
#include "workers.hpp"

namespace localsgd::core {

[[noreturn]] inline void throw_diverged(const char* what) {
  throw Diverged(std::string("diverged: ") + what +
                 " has non-finite entries; lower the step size (--lr, --lr-param)");
}

// The weight sum S_t = sum_{s<t} (a+s)^2 of the output average.
inline double total_weight(double shift, std::int64_t steps) {
  double total = 0.0;
  for (std::int64_t t = 0; t < steps; ++t) total += iterate_weight(shift, t);
  return total;
}

template <class Worker>
class WorkerPool {
 public:
  template <class WorkerObjective>
  WorkerPool(const WorkerObjective& objective, std::vector<double> x0, const DataView& data,
             const EngineConfig& config, Communicator& communicator)
      : communicator_(communicator),
        range_(communicator.local_workers(config.workers)),
        K_(config.workers),
        global_(std::move(x0)) {
    workers_.reserve(static_cast<std::size_t>(range_.size()));
    for (std::int64_t k = range_.begin; k < range_.end; ++k)
      workers_.emplace_back(
          objective, global_,
          RowSampler(config.seed, static_cast<std::uint64_t>(k),
                     config.partition.empty() ? std::span<const std::int64_t>()
                                              : config.partition[static_cast<std::size_t>(k)],
                     data.rows(), config.sampling, config.batch),
          config.batch);
  }

  std::vector<Worker>& workers() { return workers_; }
  const std::vector<Worker>& workers() const { return workers_; }
  Worker& worker(std::int64_t k) { return workers_[static_cast<std::size_t>(k - range_.begin)]; }
  WorkerRange local() const { return range_; }
  std::int64_t size() const { return K_; }  // K, all processes together
  std::size_t dimension() const { return global_.size(); }
  std::vector<double>& global() { return global_; }
  const std::vector<double>& global() const { return global_; }
  Communicator& communicator() const { return communicator_; }

  // Checkpoints: every worker's state and the distinct models they have yet to adopt.
  // Collective with several processes: process 0 receives all workers', in global order
  // (worker_state_exchange.hpp); the others keep none.
  void save(EngineState& state) const {
    state.global = global_;
    state.margin = std::is_same_v<Worker, MarginWorker>;
    state.workers.assign(workers_.size(), {});
    state.pending.clear();
    std::vector<const double*> seen;
    for (std::size_t k = 0; k < workers_.size(); ++k) {
      workers_[k].save(state.workers[k]);
      const double* pending = workers_[k].pending();
      if (pending == nullptr) continue;
      const auto found = std::find(seen.begin(), seen.end(), pending);
      state.workers[k].pending = found - seen.begin();
      if (found == seen.end()) {
        seen.push_back(pending);
        state.pending.emplace_back(pending, pending + dimension());
      }
    }
    if (communicator_.ranks() > 1) gather_worker_states(communicator_, state);
  }
  // Every process reads all K workers' state and takes its own: the layout of processes
  // may differ from the saved run's. `state.pending` must stay alive until every worker
  // has started a phase.
  void restore(const EngineState& state) {
    if (state.margin != std::is_same_v<Worker, MarginWorker> ||
        static_cast<std::int64_t>(state.workers.size()) != K_ || state.global.size() != dimension())
      throw std::invalid_argument("the saved workers do not fit this run");
    global_ = state.global;
    for (std::size_t k = 0; k < workers_.size(); ++k) {
      const WorkerState& saved = state.workers[static_cast<std::size_t>(range_.begin) + k];
      const std::int64_t p = saved.pending;
      if (p >= static_cast<std::int64_t>(state.pending.size()) ||
          (p >= 0 && state.pending[static_cast<std::size_t>(p)].size() != dimension()))
        throw std::invalid_argument("a saved pending model does not fit this run");
      workers_[k].restore(saved,
                          p < 0 ? nullptr : state.pending[static_cast<std::size_t>(p)].data(),
                          state.tracked);
    }
  }

  // x̄: the plain mean of all workers' current models.
  std::vector<double> models_mean() const {
    std::vector<double> x(dimension(), 0.0);
    for (const Worker& w : workers_) w.add_model_to(x, 0, x.size());
    communicator_.sum(x);
    for (double& v : x) v /= static_cast<double>(K_);
    return x;
  }

  // x̂ when every worker has taken `steps` steps: sum_k A^k / (K S_steps).
  std::vector<double> weighted_average(double shift, std::int64_t steps) const {
    return scaled_accumulators(1.0 / (static_cast<double>(K_) * total_weight(shift, steps)));
  }

  // x̂ when worker k has taken steps[k] steps (asynchronous runs): sum_k A^k / sum_k S.
  std::vector<double> weighted_average(double shift, std::span<const std::int64_t> steps) const {
    bool equal = true;
    for (std::int64_t s : steps) equal = equal && s == steps.front();
    if (equal) return weighted_average(shift, steps.front());
    double total = 0.0;
    for (std::int64_t s : steps) total += total_weight(shift, s);
    return scaled_accumulators(1.0 / total);
  }

 private:
  std::vector<double> scaled_accumulators(double scale) const {
    std::vector<double> x(dimension(), 0.0);
    for (const Worker& w : workers_) w.add_accumulator_to(x);
    communicator_.sum(x);
    for (double& v : x) {
      v *= scale;
      if (!std::isfinite(v)) throw_diverged("the weighted average x_hat");
    }
    return x;
  }

  Communicator& communicator_;
  const WorkerRange range_;
  const std::int64_t K_;
  std::vector<Worker> workers_;
  std::vector<double> global_;  // the last model all workers agreed on
};

}  // namespace localsgd::core
