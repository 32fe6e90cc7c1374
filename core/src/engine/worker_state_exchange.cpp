#include "worker_state_exchange.hpp"

#include <cstring>
#include <type_traits>
#include <vector>

#include "localsgd/core/errors.hpp"

namespace localsgd::core {
namespace {

class Writer {
 public:
  template <class T>
  void put(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    append(&value, sizeof value);
  }
  template <class T>
  void put_array(const std::vector<T>& values) {
    put<std::uint64_t>(values.size());
    append(values.data(), values.size() * sizeof(T));
  }
  std::vector<std::byte>& bytes() { return bytes_; }

 private:
  void append(const void* data, std::size_t size) {
    if (size == 0) return;  // data() of an empty vector may be null
    const auto* first = static_cast<const std::byte*>(data);
    bytes_.insert(bytes_.end(), first, first + size);
  }
  std::vector<std::byte> bytes_;
};

// Reads what a Writer wrote on another process of this run; a short or long message is
// a bug of ours, not bad input.
class Reader {
 public:
  explicit Reader(const std::vector<std::byte>& bytes) : bytes_(bytes) {}
  template <class T>
  T get() {
    T value;
    take(&value, sizeof value);
    return value;
  }
  template <class T>
  std::vector<T> get_array() {
    const auto count = get<std::uint64_t>();
    if (count > (bytes_.size() - offset_) / sizeof(T)) fail();
    std::vector<T> values(count);
    take(values.data(), count * sizeof(T));
    return values;
  }
  void expect_end() const {
    if (offset_ != bytes_.size()) fail();
  }

 private:
  void take(void* data, std::size_t size) {
    if (size > bytes_.size() - offset_) fail();
    if (size != 0) std::memcpy(data, bytes_.data() + offset_, size);
    offset_ += size;
  }
  [[noreturn]] static void fail() {
    throw RuntimeFailure("checkpoint: a process sent its workers' state malformed");
  }
  const std::vector<std::byte>& bytes_;
  std::size_t offset_ = 0;
};

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

}  // namespace

void gather_worker_states(Communicator& communicator, EngineState& state) {
  Writer out;
  out.put<std::uint64_t>(state.workers.size());
  for (const WorkerState& w : state.workers) {
    out.put_array(w.reals);
    out.put_array(w.touched);
    out.put<std::int64_t>(w.pending);
  }
  out.put<std::uint64_t>(state.pending.size());
  for (const std::vector<double>& model : state.pending) out.put_array(model);
  state.workers.clear();
  state.pending.clear();
  const std::vector<std::vector<std::byte>> parts = communicator.gather(out.bytes());

  // Process 0: the parts in rank order are the workers in global order. After a sync
  // every process hands out the same mean, so pending models are merged by their bits.
  for (const std::vector<std::byte>& part : parts) {
    Reader in(part);
    const auto count = in.get<std::uint64_t>();
    const std::size_t first = state.workers.size();
    for (std::uint64_t k = 0; k < count; ++k) {
      WorkerState& w = state.workers.emplace_back();
      w.reals = in.get_array<double>();
      w.touched = in.get_array<std::int64_t>();
      w.pending = in.get<std::int64_t>();
    }
    const auto models = in.get<std::uint64_t>();
    std::vector<std::int64_t> merged_index;
    for (std::uint64_t p = 0; p < models; ++p) {
      std::vector<double> model = in.get_array<double>();
      std::size_t i = 0;
      while (i < state.pending.size() && !same_bits(state.pending[i], model)) ++i;
      if (i == state.pending.size()) state.pending.push_back(std::move(model));
      merged_index.push_back(static_cast<std::int64_t>(i));
    }
    in.expect_end();
    for (std::size_t k = first; k < state.workers.size(); ++k) {
      std::int64_t& p = state.workers[k].pending;
      if (p >= static_cast<std::int64_t>(merged_index.size()))
        throw RuntimeFailure("checkpoint: a process sent a pending model it does not have");
      if (p >= 0) p = merged_index[static_cast<std::size_t>(p)];
    }
  }
}

}  // namespace localsgd::core
