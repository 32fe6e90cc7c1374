// The SDK's Philox streams (localsgd/random.hpp), which the core samples with and plugins
// draw from: pinned to the values they had when they lived in the core, so that moving or
// sharing them cannot change a run's random numbers.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include <Random123/philox.h>

#include "localsgd/random.hpp"

namespace {

TEST(Random, WorkerRngIsPinned) {
  const localsgd::WorkerRng rng(42, 3);
  std::vector<std::int64_t> indices(10);
  rng.draw_indices(5, 1000, indices);
  EXPECT_EQ(indices, (std::vector<std::int64_t>{568, 244, 14, 540, 167, 884, 61, 24, 632, 142}));
}

TEST(Random, RandomStreamIsPinned) {
  localsgd::RandomStream stream(7, 3, 2, 1);
  EXPECT_EQ(stream.uniform(), 0x1.fee26ef4b4a5ep-1);
  // normal and gamma go through libm (log, cos, pow): equal up to its rounding elsewhere.
  EXPECT_DOUBLE_EQ(stream.normal(), -0x1.12a6ef8f50d99p-3);
  EXPECT_DOUBLE_EQ(stream.gamma(0.5), 0x1.c9b7463a13a37p-6);
  EXPECT_EQ(stream.below(10), 2u);
  EXPECT_DOUBLE_EQ(stream.gamma(2.5), 0x1.37960c096847cp+0);
  std::vector<int> items{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  stream.shuffle(items);
  EXPECT_EQ(items, (std::vector<int>{5, 4, 7, 2, 6, 0, 3, 8, 9, 1}));
}

// A PhiloxStream is Philox4x64's blocks in lane order, its chosen counter word counting.
TEST(Random, PhiloxStreamWalksTheChosenCounterWord) {
  for (unsigned walk = 0; walk < 4; ++walk) {
    SCOPED_TRACE(walk);
    const std::array<std::uint64_t, 4> start{11, 22, 33, 44};
    localsgd::PhiloxStream stream(5, 6, start, walk);
    r123::Philox4x64 philox;
    r123::Philox4x64::ctr_type counter{{11, 22, 33, 44}};
    for (int block = 0; block < 3; ++block) {
      const auto expected = philox(counter, {{5, 6}});
      for (int lane = 0; lane < 4; ++lane) EXPECT_EQ(stream.next(), expected.v[lane]);
      ++counter.v[walk];
    }
  }
}

TEST(Random, BitConversionsCoverTheirIntervals) {
  EXPECT_EQ(localsgd::unit_interval(0), 0.0);
  EXPECT_EQ(localsgd::unit_interval(~std::uint64_t{0}), 1.0 - 0x1.0p-53);
  EXPECT_EQ(localsgd::open_unit_interval(0), 0x1.0p-54);
  EXPECT_EQ(localsgd::open_unit_interval(~std::uint64_t{0}), 1.0);  // rounded up
  EXPECT_LT(localsgd::open_unit_interval(~std::uint64_t{0} - (std::uint64_t{1} << 11)), 1.0);
  EXPECT_EQ(localsgd::unit_interval_without_zero(0), 0x1.0p-53);
  EXPECT_EQ(localsgd::unit_interval_without_zero(~std::uint64_t{0}), 1.0);
  EXPECT_EQ(localsgd::scale_to(~std::uint64_t{0}, 10), 9u);
  EXPECT_EQ(localsgd::scale_to(0, 10), 0u);
}

}  // namespace
