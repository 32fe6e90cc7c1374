// The schedule's next() questions and answers of a run, kept for checkpoints and replayed
// on resume (ScheduleDriver). A long run asks millions of them, so the record is a byte
// stream of differences from the previous call, not a vector of structs: for a constant
// schedule with a constant step size a call takes 7 bytes instead of 64.
//
// Each call, relative to the previous one (all zero before the first): step, round,
// worker and group as zigzag varints of their differences; the step size and F at the
// average as varints of the XOR of their bits with the previous value's (0 when
// unchanged); a flag byte for whether F was read; the answer as a varint of
// answer_step − step. Differences wrap modulo 2^64, so hostile bytes decode to some
// values, never to undefined behaviour.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace localsgd::core {

// One next() question to the schedule and its answer.
struct ScheduleCall {
  std::int64_t step = 0, round = 0, worker = -1;
  double step_size = 0;
  std::optional<double> objective_at_average;  // F at the average, if the schedule read it
  std::int64_t answer_step = 0, answer_group = 0;
};

class ScheduleRecord {
 public:
  void append(const ScheduleCall& call);
  std::int64_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  const ScheduleCall& back() const { return last_; }  // requires !empty()

  // Calls `visit` with each call in order.
  void for_each(const std::function<void(const ScheduleCall&)>& visit) const;

  // The encoded calls, and a record rebuilt from them; throws std::invalid_argument when
  // the bytes do not hold exactly `count` calls.
  const std::string& bytes() const { return bytes_; }
  static ScheduleRecord from_bytes(std::string bytes, std::int64_t count);

 private:
  std::string bytes_;
  std::int64_t count_ = 0;
  ScheduleCall last_;
  double last_value_ = 0;  // the last F at the average that was read
};

}  // namespace localsgd::core
