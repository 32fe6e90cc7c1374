// Per-worker random streams (Random123 Philox, counter-based).
//
// The indices a worker draws at step t are a pure function of (seed, worker, t): no
// state is carried between steps, so results never depend on thread count or
// scheduling, and evaluating or checkpointing cannot perturb the stream.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include <Random123/philox.h>

namespace localsgd::core {

class WorkerRng {
 public:
  WorkerRng(std::uint64_t seed, std::uint64_t worker) : key_{{seed, worker}} {}

  // Fills `out` with indices drawn uniformly, with replacement, from [0, n).
  void draw_indices(std::int64_t step, std::uint64_t n, std::span<std::int64_t> out) const {
    r123::Philox4x64 philox;
    r123::Philox4x64::ctr_type counter{{static_cast<std::uint64_t>(step), 0, kSamplingStream, 0}};
    std::size_t i = 0;
    while (i < out.size()) {
      const auto random = philox(counter, key_);
      for (std::size_t lane = 0; lane < 4 && i < out.size(); ++lane, ++i)
        out[i] = static_cast<std::int64_t>(scale_to(random.v[lane], n));
      ++counter.v[1];
    }
  }

 private:
  static constexpr std::uint64_t kSamplingStream = 1;

  // Lemire's multiply-shift: maps 64 random bits to [0, n) with bias below n / 2^64.
  static std::uint64_t scale_to(std::uint64_t bits, std::uint64_t n) {
    __extension__ using uint128 = unsigned __int128;
    return static_cast<std::uint64_t>((static_cast<uint128>(bits) * n) >> 64);
  }

  r123::Philox4x64::key_type key_;
};

// A sequential stream of random numbers for everything that is not per-step sampling
// (partitions, shuffled passes): Philox with key (seed, stream) and counter (id, id2, i).
// Deterministic and portable: no std:: distributions, whose output varies by library.
class RandomStream {
 public:
  RandomStream(std::uint64_t seed, std::uint64_t stream, std::uint64_t id, std::uint64_t id2 = 0)
      : key_{{seed, stream}}, counter_{{id, id2, 0, 0}} {}

  double uniform() {  // in (0, 1)
    if (lane_ == 4) {
      block_ = philox_(counter_, key_);
      ++counter_.v[2];
      lane_ = 0;
    }
    return (static_cast<double>(block_.v[lane_++] >> 11) + 0.5) * 0x1.0p-53;
  }
  std::uint64_t below(std::uint64_t n) {  // in [0, n)
    const auto i = static_cast<std::uint64_t>(uniform() * static_cast<double>(n));
    return i < n ? i : n - 1;
  }
  double normal() {  // Box-Muller
    const double r = std::sqrt(-2.0 * std::log(uniform()));
    return r * std::cos(2.0 * 3.14159265358979323846 * uniform());
  }
  // Gamma(shape, 1) by Marsaglia & Tsang, boosted for shape < 1.
  double gamma(double shape) {
    if (shape < 1.0) return gamma(shape + 1.0) * std::pow(uniform(), 1.0 / shape);
    const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
    while (true) {
      double x, v;
      do {
        x = normal();
        v = 1.0 + c * x;
      } while (v <= 0.0);
      v = v * v * v;
      if (std::log(uniform()) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
    }
  }
  template <class T>
  void shuffle(std::vector<T>& items) {  // Fisher-Yates
    for (std::size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[below(i)]);
  }

 private:
  r123::Philox4x64 philox_;
  r123::Philox4x64::key_type key_;
  r123::Philox4x64::ctr_type counter_;
  r123::Philox4x64::ctr_type block_{};
  int lane_ = 4;
};

}  // namespace localsgd::core
