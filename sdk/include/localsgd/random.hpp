// Counter-based random streams (Random123's Philox4x64) for the core and for plugins.
//
// Every random number is a pure function of a key and a counter: no state is carried
// between uses beyond the position in a stream, so results never depend on thread count
// or scheduling, and evaluating or checkpointing cannot perturb a stream. Deterministic
// and portable: no std:: distributions, whose output varies by library.
//
// Needs Random123 (header-only, librandom123-dev) on the include path; the SDK's CMake
// target localsgd::sdk adds it. Not part of sdk.hpp: include this header where needed.
#pragma once

#include "localsgd/language.hpp"  // first: C++20 or one clear error

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include <Random123/philox.h>

namespace localsgd {

// 64 random bits as a double, from the top 53 bits k:
inline double unit_interval(std::uint64_t bits) {  // k 2^-53, in [0, 1)
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}
// (k + 1/2) 2^-53, in (0, 1) but for the largest k, where it rounds to 1.
inline double open_unit_interval(std::uint64_t bits) {
  return (static_cast<double>(bits >> 11) + 0.5) * 0x1.0p-53;
}
inline double unit_interval_without_zero(std::uint64_t bits) {  // (k + 1) 2^-53, in (0, 1]
  return static_cast<double>((bits >> 11) + 1) * 0x1.0p-53;
}

// Lemire's multiply-shift: maps 64 random bits to [0, n) with bias below n / 2^64.
inline std::uint64_t scale_to(std::uint64_t bits, std::uint64_t n) {
  __extension__ using uint128 = unsigned __int128;
  return static_cast<std::uint64_t>((static_cast<uint128>(bits) * n) >> 64);
}

// The 64-bit outputs of Philox4x64 with key {key0, key1}, four per block, in lane order:
// block b is Philox of `counter` with word `walk` (0..3) increased by b.
class PhiloxStream {
 public:
  using Counter = std::array<std::uint64_t, 4>;

  PhiloxStream(std::uint64_t key0, std::uint64_t key1, const Counter& counter, unsigned walk)
      : key_{{key0, key1}},
        counter_{{counter[0], counter[1], counter[2], counter[3]}},
        walk_(walk) {}

  std::uint64_t next() {
    if (lane_ == 4) {
      block_ = philox_(counter_, key_);
      ++counter_.v[walk_];
      lane_ = 0;
    }
    return block_.v[lane_++];
  }

 private:
  r123::Philox4x64 philox_;
  r123::Philox4x64::key_type key_;
  r123::Philox4x64::ctr_type counter_;
  r123::Philox4x64::ctr_type block_{};
  unsigned walk_;
  int lane_ = 4;
};

// Per-worker sampling streams: the indices a worker draws at step t are a pure function
// of (seed, worker, t). Key {seed, worker}, counter {t, block, 1, 0}.
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

  r123::Philox4x64::key_type key_;
};

// A sequential stream of random numbers for everything that is not per-step sampling
// (partitions, shuffled passes): Philox with key (seed, stream) and counter (id, id2, i).
class RandomStream {
 public:
  RandomStream(std::uint64_t seed, std::uint64_t stream, std::uint64_t id, std::uint64_t id2 = 0)
      : words_(seed, stream, {id, id2, 0, 0}, 2) {}

  double uniform() { return open_unit_interval(words_.next()); }  // in (0, 1]
  std::uint64_t below(std::uint64_t n) {                          // in [0, n)
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
  template <class T, class Allocator>
  void shuffle(std::vector<T, Allocator>& items) {  // Fisher-Yates
    for (std::size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[below(i)]);
  }

 private:
  PhiloxStream words_;
};

}  // namespace localsgd
