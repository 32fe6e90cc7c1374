#include "localsgd/core/engine/schedule_record.hpp"

#include <bit>
#include <stdexcept>
#include <utility>

namespace localsgd::core {
namespace {

using u64 = std::uint64_t;

void put_varint(std::string& bytes, u64 value) {
  while (value >= 0x80) {
    bytes.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  bytes.push_back(static_cast<char>(value));
}

u64 zigzag(std::int64_t from, std::int64_t to) {
  const u64 d = static_cast<u64>(to) - static_cast<u64>(from);
  return (d << 1) ^ (0 - (d >> 63));
}

std::int64_t unzigzag(std::int64_t from, u64 z) {
  const u64 d = (z >> 1) ^ (0 - (z & 1));
  return static_cast<std::int64_t>(static_cast<u64>(from) + d);
}

u64 bits(double value) {
  return std::bit_cast<u64>(value);
}

// Reads the calls back, one at a time, from the previous call.
class Reader {
 public:
  explicit Reader(const std::string& bytes) : bytes_(bytes) {}
  bool done() const { return at_ == bytes_.size(); }

  ScheduleCall next(const ScheduleCall& previous, double& previous_value) {
    ScheduleCall call;
    call.step = unzigzag(previous.step, varint());
    call.round = unzigzag(previous.round, varint());
    call.worker = unzigzag(previous.worker, varint());
    call.step_size = std::bit_cast<double>(bits(previous.step_size) ^ varint());
    const unsigned char flag = byte();
    if (flag > 1) throw std::invalid_argument("a schedule call has a bad flag");
    if (flag == 1) {
      previous_value = std::bit_cast<double>(bits(previous_value) ^ varint());
      call.objective_at_average = previous_value;
    }
    call.answer_step = unzigzag(call.step, varint());
    call.answer_group = unzigzag(previous.answer_group, varint());
    return call;
  }

 private:
  unsigned char byte() {
    if (at_ == bytes_.size()) throw std::invalid_argument("the schedule record ends mid-call");
    return static_cast<unsigned char>(bytes_[at_++]);
  }
  u64 varint() {
    u64 value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const unsigned char b = byte();
      value |= static_cast<u64>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return value;
    }
    throw std::invalid_argument("a schedule record number is too long");
  }

  const std::string& bytes_;
  std::size_t at_ = 0;
};

ScheduleCall origin() {
  ScheduleCall call;
  call.worker = 0;
  return call;
}

}  // namespace

void ScheduleRecord::append(const ScheduleCall& call) {
  const ScheduleCall previous = count_ == 0 ? origin() : last_;
  put_varint(bytes_, zigzag(previous.step, call.step));
  put_varint(bytes_, zigzag(previous.round, call.round));
  put_varint(bytes_, zigzag(previous.worker, call.worker));
  put_varint(bytes_, bits(previous.step_size) ^ bits(call.step_size));
  bytes_.push_back(call.objective_at_average ? 1 : 0);
  if (call.objective_at_average) {
    put_varint(bytes_, bits(last_value_) ^ bits(*call.objective_at_average));
    last_value_ = *call.objective_at_average;
  }
  put_varint(bytes_, zigzag(call.step, call.answer_step));
  put_varint(bytes_, zigzag(previous.answer_group, call.answer_group));
  last_ = call;
  ++count_;
}

void ScheduleRecord::for_each(const std::function<void(const ScheduleCall&)>& visit) const {
  Reader reader(bytes_);
  ScheduleCall call = origin();
  double value = 0;
  for (std::int64_t i = 0; i < count_; ++i) {
    call = reader.next(call, value);
    visit(call);
  }
}

ScheduleRecord ScheduleRecord::from_bytes(std::string bytes, std::int64_t count) {
  if (count < 0) throw std::invalid_argument("the schedule record has a negative length");
  ScheduleRecord record;
  record.bytes_ = std::move(bytes);
  Reader reader(record.bytes_);
  ScheduleCall call = origin();
  for (std::int64_t i = 0; i < count; ++i) call = reader.next(call, record.last_value_);
  if (!reader.done()) throw std::invalid_argument("the schedule record has bytes after its calls");
  record.count_ = count;
  record.last_ = call;
  return record;
}

}  // namespace localsgd::core
