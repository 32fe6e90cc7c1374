// The schedule record of a checkpoint: calls come back exactly as appended (doubles bit for
// bit, extreme integers included), the encoding is small for regular schedules, and
// damaged bytes are refused instead of decoded into garbage.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "localsgd/core/engine/schedule_record.hpp"

namespace {

using localsgd::core::ScheduleCall;
using localsgd::core::ScheduleRecord;

std::vector<ScheduleCall> decoded(const ScheduleRecord& record) {
  std::vector<ScheduleCall> calls;
  record.for_each([&](const ScheduleCall& call) { calls.push_back(call); });
  return calls;
}

void expect_same(const ScheduleCall& a, const ScheduleCall& b) {
  EXPECT_EQ(a.step, b.step);
  EXPECT_EQ(a.round, b.round);
  EXPECT_EQ(a.worker, b.worker);
  EXPECT_EQ(std::bit_cast<std::uint64_t>(a.step_size), std::bit_cast<std::uint64_t>(b.step_size));
  ASSERT_EQ(a.objective_at_average.has_value(), b.objective_at_average.has_value());
  if (a.objective_at_average) {
    EXPECT_EQ(std::bit_cast<std::uint64_t>(*a.objective_at_average),
              std::bit_cast<std::uint64_t>(*b.objective_at_average));
  }
  EXPECT_EQ(a.answer_step, b.answer_step);
  EXPECT_EQ(a.answer_group, b.answer_group);
}

TEST(ScheduleRecord, GivesBackEveryCallExactly) {
  constexpr std::int64_t big = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t small = std::numeric_limits<std::int64_t>::min();
  const std::vector<ScheduleCall> calls = {
      {0, 0, -1, 0.5, std::nullopt, 8, 0},
      {8, 1, -1, 0.5, 0.693, 16, 0},
      {16, 2, 3, 1.0 / 3.0, std::nullopt, 20, 2},
      {20, 3, -1, -0.0, -1e300, 4000000000000, 0},
      {big - 1, big, small, std::numeric_limits<double>::denorm_min(), 0.693, big, big},
      {small, small, big, std::nan(""), std::numeric_limits<double>::infinity(), big, small},
      {5, 4, 0, 0.25, 0.5, 6, 0},
  };
  ScheduleRecord record;
  for (const ScheduleCall& call : calls) record.append(call);
  ASSERT_EQ(record.size(), static_cast<std::int64_t>(calls.size()));
  expect_same(record.back(), calls.back());
  const std::vector<ScheduleCall> back = decoded(record);
  ASSERT_EQ(back.size(), calls.size());
  for (std::size_t i = 0; i < calls.size(); ++i) expect_same(back[i], calls[i]);

  const ScheduleRecord reread = ScheduleRecord::from_bytes(record.bytes(), record.size());
  const std::vector<ScheduleCall> again = decoded(reread);
  for (std::size_t i = 0; i < calls.size(); ++i) expect_same(again[i], calls[i]);
  expect_same(reread.back(), calls.back());
  // Appending after a reread continues the same stream (a resumed run keeps recording).
  ScheduleRecord continued = reread;
  const ScheduleCall next{7, 5, -1, 0.25, 0.5, 15, 0};
  continued.append(next);
  record.append(next);
  EXPECT_EQ(continued.bytes(), record.bytes());
}

TEST(ScheduleRecord, ARegularScheduleTakesAFewBytesPerCall) {
  ScheduleRecord record;
  for (std::int64_t round = 0; round < 100000; ++round)
    record.append({8 * round, round, -1, 1.392, std::nullopt, 8 * round + 8, 0});
  // 7 bytes a call after the first (whose step size is new: 9 more); it was 64.
  EXPECT_EQ(record.bytes().size(), 7u * 100000u + 8u);
}

TEST(ScheduleRecord, DamagedBytesAreRefused) {
  ScheduleRecord record;
  record.append({0, 0, -1, 0.0, 0.25, 8, 0});  // a zero step size: one byte, like the others
  record.append({8, 1, -1, 0.0, std::nullopt, 16, 0});
  const std::string bytes = record.bytes();
  EXPECT_THROW((void)ScheduleRecord::from_bytes(bytes, 3), std::invalid_argument);  // too few
  EXPECT_THROW((void)ScheduleRecord::from_bytes(bytes, 1), std::invalid_argument);  // too many
  EXPECT_THROW((void)ScheduleRecord::from_bytes(bytes, -1), std::invalid_argument);
  EXPECT_THROW((void)ScheduleRecord::from_bytes(bytes.substr(0, bytes.size() - 1), 2),
               std::invalid_argument);
  std::string bad_flag = bytes;
  bad_flag[4] = 7;  // the first call's flag byte (four one-byte numbers before it)
  EXPECT_THROW((void)ScheduleRecord::from_bytes(bad_flag, 2), std::invalid_argument);
  EXPECT_THROW((void)ScheduleRecord::from_bytes(std::string(11, '\xff'), 1),
               std::invalid_argument);  // a number longer than 64 bits
}

}  // namespace
