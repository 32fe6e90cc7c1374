// A worker's sample stream (--sampling): b row indices per step from the worker's rows
// (all rows, or its part of a --partition).
//
//   iid      uniformly with replacement, as in the paper: the indices of step t are a pure
//            function of (seed, worker, t)
//   shuffle  shuffled passes: the worker's k-th sample overall is position k mod m of a
//            permutation of its m rows, a new permutation per pass e drawn from
//            (seed, worker, e), so every pass visits each row exactly once
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <tbb/cache_aligned_allocator.h>

#include "localsgd/core/engine/rng.hpp"

namespace localsgd::core {

enum class Sampling { iid, shuffle };

Sampling parse_sampling(const std::string& name);  // UsageError when unknown
const char* to_string(Sampling sampling);

class RowSampler {
 public:
  RowSampler(std::uint64_t seed, std::uint64_t worker, std::span<const std::int64_t> subset,
             std::int64_t rows, Sampling sampling, std::int64_t batch)
      : seed_(seed),
        worker_(worker),
        rng_(seed, worker),
        subset_(subset),
        n_(static_cast<std::uint64_t>(subset.empty() ? rows
                                                     : static_cast<std::int64_t>(subset.size()))),
        sampling_(sampling),
        batch_(static_cast<std::uint64_t>(batch)) {}

  // The rows of step `step`. Steps must be asked for in non-decreasing order (shuffled
  // passes keep only the current permutation).
  void draw(std::int64_t step, std::span<std::int64_t> out) {
    if (sampling_ == Sampling::iid) {
      rng_.draw_indices(step, n_, out);
    } else if (!out.empty()) {
      // Sample position first + j is (pass, offset) = divmod(first + j, n): divide once
      // and step, not per sample (this runs for every sample of every step).
      const std::uint64_t first = static_cast<std::uint64_t>(step) * batch_;
      std::uint64_t pass = first / n_, offset = first % n_;
      for (std::int64_t& row : out) {
        if (pass != pass_ || permutation_.empty()) new_pass(pass);
        row = permutation_[static_cast<std::size_t>(offset)];
        if (++offset == n_) {
          offset = 0;
          ++pass;
        }
      }
    }
    if (!subset_.empty())
      for (std::int64_t& i : out) i = subset_[static_cast<std::size_t>(i)];
  }

 private:
  static constexpr std::uint64_t kShuffleStream = 0x73687566666c6521ull;

  void new_pass(std::uint64_t pass) {
    permutation_.resize(static_cast<std::size_t>(n_));
    for (std::size_t i = 0; i < permutation_.size(); ++i)
      permutation_[i] = static_cast<std::int64_t>(i);
    RandomStream stream(seed_, kShuffleStream, worker_, pass);
    stream.shuffle(permutation_);
    pass_ = pass;
  }

  std::uint64_t seed_, worker_;
  WorkerRng rng_;
  std::span<const std::int64_t> subset_;
  std::uint64_t n_;
  Sampling sampling_;
  std::uint64_t batch_;
  std::uint64_t pass_ = 0;
  // Rewritten every pass, on the worker's thread: on cache lines of its own.
  std::vector<std::int64_t, tbb::cache_aligned_allocator<std::int64_t>> permutation_;
};

}  // namespace localsgd::core
