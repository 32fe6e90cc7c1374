// Per-worker random streams (Random123 Philox, counter-based).
//
// The indices a worker draws at step t are a pure function of (seed, worker, t): no
// state is carried between steps, so results never depend on thread count or
// scheduling, and evaluating or checkpointing cannot perturb the stream.
#pragma once

#include <cstdint>
#include <span>

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

}  // namespace localsgd::core
