#include "localsgd/core/io/checkpoint_file.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "localsgd/core/data/binary_format.hpp"
#include "localsgd/core/io/atomic_file.hpp"
#include "localsgd/core/io/input_file.hpp"
#include "localsgd/errors.hpp"

namespace localsgd::core {
namespace {

static_assert(std::endian::native == std::endian::little, "checkpoints are little-endian");

constexpr char kMagic[8] = {'L', 'S', 'G', 'D', 'C', 'K', 'P', 'T'};
constexpr std::size_t kPrefix = 8 + 4 + 4 + 8;  // magic, version, reserved, payload size

using Array = std::variant<std::vector<double>, std::vector<std::int64_t>>;

// The arrays of a state, by name, in the order they are written.
class ArrayList {
 public:
  void add(std::string name, std::vector<double> values) {
    names_.push_back(std::move(name));
    arrays_.emplace_back(std::move(values));
  }
  void add(std::string name, std::vector<std::int64_t> values) {
    names_.push_back(std::move(name));
    arrays_.emplace_back(std::move(values));
  }
  nlohmann::ordered_json describe() const {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < arrays_.size(); ++i)
      std::visit(
          [&](const auto& a) {
            const bool reals = std::is_same_v<std::decay_t<decltype(a)>, std::vector<double>>;
            list.push_back({names_[i], reals ? "f64" : "i64", a.size()});
          },
          arrays_[i]);
    return list;
  }
  void append_to(std::string& bytes) const {
    for (const Array& array : arrays_)
      std::visit(
          [&](const auto& a) {
            bytes.append(reinterpret_cast<const char*>(a.data()), a.size() * 8);
          },
          array);
  }

 private:
  std::vector<std::string> names_;
  std::vector<Array> arrays_;
};

template <class T>
void put(std::string& bytes, T value) {
  bytes.append(reinterpret_cast<const char*>(&value), sizeof value);
}

template <class T>
T get(std::string_view bytes, std::size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

// memcpy from an empty view is undefined (its data() may be null), and empty arrays are common.
template <class T>
void copy_bytes(T* destination, std::string_view bytes) {
  if (!bytes.empty()) std::memcpy(destination, bytes.data(), bytes.size());
}

std::string encode(const Checkpoint& c) {
  const EngineState& s = c.state;
  ArrayList arrays;
  arrays.add("global", s.global);
  for (std::size_t i = 0; i < s.pending.size(); ++i)
    arrays.add("pending/" + std::to_string(i), s.pending[i]);
  std::vector<std::int64_t> pending_of;
  for (std::size_t k = 0; k < s.workers.size(); ++k) {
    arrays.add("worker/" + std::to_string(k), s.workers[k].reals);
    arrays.add("touched/" + std::to_string(k), s.workers[k].touched);
    pending_of.push_back(s.workers[k].pending);
  }
  arrays.add("pending_of", pending_of);
  // The record's bytes, in 8-byte words (the last one zero-padded).
  const std::string& record = s.schedule_record.bytes();
  std::vector<std::int64_t> record_words((record.size() + 7) / 8);
  copy_bytes(record_words.data(), record);
  arrays.add("schedule_record", std::move(record_words));
  if (s.combine_state) arrays.add("combine_state", *s.combine_state);
  std::vector<std::int64_t> clock_ints;
  std::vector<double> clock_reals;
  for (const AsyncClock& clock : s.clocks) {
    clock_ints.insert(clock_ints.end(), {clock.step, clock.executed, clock.phase_end, clock.round,
                                         clock.running, clock.waiting, clock.finished});
    clock_reals.insert(clock_reals.end(), {clock.phase_end_time, clock.ready_time});
  }
  arrays.add("clocks", clock_ints);
  arrays.add("clock_times", clock_reals);
  for (std::size_t k = 0; k < s.latest.size(); ++k)
    arrays.add("latest/" + std::to_string(k), s.latest[k]);

  nlohmann::ordered_json header;
  header["identity"] = c.identity;
  header["callbacks"] = c.callbacks;
  header["state"] = {{"async", s.async},
                     {"margin", s.margin},
                     {"tracked", s.tracked},
                     {"step", s.step},
                     {"rounds", s.rounds},
                     {"next_evaluation", s.next_evaluation},
                     {"first_phase", s.first_phase},
                     {"workers", s.workers.size()},
                     {"pending", s.pending.size()},
                     {"latest", s.latest.size()},
                     {"combine_state", s.combine_state.has_value()},
                     {"last_sync_was_global", s.last_sync_was_global},
                     {"global_stale", s.global_stale},
                     {"max_staleness", s.max_staleness},
                     {"staleness_sum", s.staleness_sum},
                     {"staleness_count", s.staleness_count},
                     {"schedule_calls", s.schedule_record.size()},
                     {"schedule_record_bytes", record.size()}};
  header["arrays"] = arrays.describe();
  const std::string json = header.dump();

  std::string payload;
  put<std::uint64_t>(payload, json.size());
  payload += json;
  arrays.append_to(payload);
  std::string file(kMagic, sizeof kMagic);
  put<std::uint32_t>(file, kCheckpointFormatVersion);
  put<std::uint32_t>(file, 0);
  put<std::uint64_t>(file, payload.size());
  file += payload;
  put<std::uint64_t>(file, binary::hash64(payload.data(), payload.size()));
  return file;
}

// Reads the named arrays of a payload, checking that they fill it exactly.
class ArrayReader {
 public:
  ArrayReader(const nlohmann::ordered_json& list, std::string_view data, const std::string& file)
      : file_(file) {
    if (!list.is_array()) fail("the array list is not a list");
    std::size_t offset = 0;
    for (const auto& entry : list) {
      if (!entry.is_array() || entry.size() != 3 || !entry[0].is_string() ||
          !entry[1].is_string() || !entry[2].is_number_unsigned())
        fail("malformed array entry");
      const auto count = entry[2].get<std::uint64_t>();
      if (count > (data.size() - offset) / 8) fail("an array runs past the end of the file");
      const std::string_view bytes = data.substr(offset, count * 8);
      offset += count * 8;
      const std::string type = entry[1];
      Array array;
      if (type == "f64") {
        std::vector<double> values(count);
        copy_bytes(values.data(), bytes);
        array = std::move(values);
      } else if (type == "i64") {
        std::vector<std::int64_t> values(count);
        copy_bytes(values.data(), bytes);
        array = std::move(values);
      } else {
        fail("unknown array type '" + type + "'");
      }
      if (!arrays_.emplace(entry[0].get<std::string>(), std::move(array)).second)
        fail("array '" + entry[0].get<std::string>() + "' appears twice");
    }
    if (offset != data.size()) fail("bytes after the last array");
  }

  std::vector<double> reals(const std::string& name, std::optional<std::size_t> size = {}) {
    return take<std::vector<double>>(name, size);
  }
  std::vector<std::int64_t> integers(const std::string& name,
                                     std::optional<std::size_t> size = {}) {
    return take<std::vector<std::int64_t>>(name, size);
  }
  bool has(const std::string& name) const { return arrays_.count(name) != 0; }
  [[noreturn]] void fail(const std::string& what) const {
    throw DataError(file_, 0, 0, "corrupted checkpoint: " + what);
  }

 private:
  template <class Vector>
  Vector take(const std::string& name, std::optional<std::size_t> size) {
    const auto found = arrays_.find(name);
    if (found == arrays_.end()) fail("array '" + name + "' is missing");
    Vector* values = std::get_if<Vector>(&found->second);
    if (values == nullptr) fail("array '" + name + "' has the wrong type");
    if (size && values->size() != *size) fail("array '" + name + "' has the wrong size");
    return std::move(*values);
  }

  const std::string& file_;
  std::map<std::string, Array> arrays_;
};

bool flag(std::int64_t value, ArrayReader& arrays) {
  if (value != 0 && value != 1) arrays.fail("a flag is neither 0 nor 1");
  return value == 1;
}

// JSON integers in range only: nlohmann's conversion of a float such as 4e39 to an
// integer is undefined behaviour.
std::int64_t integer(const nlohmann::ordered_json& h, const char* key, ArrayReader& arrays,
                     std::int64_t lowest = INT64_MIN) {
  const nlohmann::ordered_json& value = h.at(key);
  if (!value.is_number_integer() ||
      (value.is_number_unsigned() &&
       value.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) ||
      value.get<std::int64_t>() < lowest)
    arrays.fail(std::string("\"") + key + "\" is not an integer in range");
  return value.get<std::int64_t>();
}

EngineState decode_state(const nlohmann::ordered_json& h, ArrayReader& arrays) {
  EngineState s;
  s.async = h.at("async").get<bool>();
  s.margin = h.at("margin").get<bool>();
  // Absent from the first checkpoints, all of one process, which tracked whenever the
  // resumed run can.
  s.tracked = h.contains("tracked") ? h.at("tracked").get<bool>() : true;
  s.step = integer(h, "step", arrays, 0);
  s.rounds = integer(h, "rounds", arrays, 0);
  s.next_evaluation = integer(h, "next_evaluation", arrays);
  s.first_phase = integer(h, "first_phase", arrays, 0);
  s.last_sync_was_global = h.at("last_sync_was_global").get<bool>();
  s.global_stale = h.at("global_stale").get<bool>();
  s.max_staleness = integer(h, "max_staleness", arrays, 0);
  s.staleness_sum = integer(h, "staleness_sum", arrays, 0);
  s.staleness_count = integer(h, "staleness_count", arrays, 0);
  const auto workers = static_cast<std::size_t>(integer(h, "workers", arrays, 0));
  const auto pending = static_cast<std::size_t>(integer(h, "pending", arrays, 0));
  const auto latest = static_cast<std::size_t>(integer(h, "latest", arrays, 0));

  s.global = arrays.reals("global");
  const std::size_t d = s.global.size();
  for (std::size_t i = 0; i < pending; ++i)
    s.pending.push_back(arrays.reals("pending/" + std::to_string(i), d));
  const std::vector<std::int64_t> pending_of = arrays.integers("pending_of", workers);
  for (std::size_t k = 0; k < workers; ++k) {
    WorkerState w;
    w.reals = arrays.reals("worker/" + std::to_string(k));
    w.touched = arrays.integers("touched/" + std::to_string(k));
    w.pending = pending_of[k];
    if (w.pending < -1 || w.pending >= static_cast<std::int64_t>(pending))
      arrays.fail("a worker's pending model does not exist");
    s.workers.push_back(std::move(w));
  }
  const auto record_bytes =
      static_cast<std::size_t>(integer(h, "schedule_record_bytes", arrays, 0));
  const std::vector<std::int64_t> record_words = arrays.integers("schedule_record");
  if (record_words.size() != (record_bytes + 7) / 8)
    arrays.fail("the schedule record's length disagrees with its size");
  std::string record(record_bytes, '\0');
  if (record_bytes != 0) std::memcpy(record.data(), record_words.data(), record_bytes);
  try {
    s.schedule_record =
        ScheduleRecord::from_bytes(std::move(record), integer(h, "schedule_calls", arrays, 0));
  } catch (const std::invalid_argument& e) {
    arrays.fail(e.what());
  }
  if (h.at("combine_state").get<bool>()) s.combine_state = arrays.reals("combine_state");
  const std::vector<std::int64_t> clock_ints = arrays.integers("clocks");
  const std::size_t clocks = clock_ints.size() / 7;
  if (clock_ints.size() % 7 != 0) arrays.fail("worker clocks are incomplete");
  const std::vector<double> clock_reals = arrays.reals("clock_times", 2 * clocks);
  for (std::size_t k = 0; k < clocks; ++k) {
    const std::int64_t* c = clock_ints.data() + 7 * k;
    s.clocks.push_back({c[0], c[1], c[2], c[3], clock_reals[2 * k], clock_reals[2 * k + 1],
                        flag(c[4], arrays), flag(c[5], arrays), flag(c[6], arrays)});
  }
  for (std::size_t k = 0; k < latest; ++k)
    s.latest.push_back(arrays.reals("latest/" + std::to_string(k), d));
  return s;
}

}  // namespace

void save_checkpoint(const std::filesystem::path& path, const Checkpoint& checkpoint) {
  const std::string bytes = encode(checkpoint);
  write_file_atomically(path, [&](std::ostream& out) { out.write(bytes.data(), bytes.size()); });
}

Checkpoint parse_checkpoint(std::string_view bytes, const std::string& file) {
  auto fail = [&](const std::string& what) -> Checkpoint { throw DataError(file, 0, 0, what); };
  const std::size_t magic = std::min(bytes.size(), sizeof kMagic);
  if (std::memcmp(bytes.data(), kMagic, magic) != 0) return fail("not a localsgd checkpoint");
  if (bytes.size() < sizeof kMagic) return fail("truncated checkpoint (no header)");
  if (bytes.size() < kPrefix) return fail("truncated checkpoint (no header)");
  const auto version = get<std::uint32_t>(bytes, 8);
  if (version != kCheckpointFormatVersion)
    return fail("checkpoint format version " + std::to_string(version) +
                " is not supported (this localsgd reads version " +
                std::to_string(kCheckpointFormatVersion) + ")");
  const auto payload_size = get<std::uint64_t>(bytes, 16);
  if (payload_size > bytes.size() - kPrefix || bytes.size() - kPrefix - payload_size != 8)
    return fail(payload_size + 8 > bytes.size() - kPrefix
                    ? "truncated checkpoint (" + std::to_string(bytes.size()) +
                          " bytes, expected " + std::to_string(kPrefix + payload_size + 8) + ")"
                    : "corrupted checkpoint: bytes after its end");
  const std::string_view payload = bytes.substr(kPrefix, payload_size);
  const auto checksum = get<std::uint64_t>(bytes, kPrefix + payload_size);
  if (binary::hash64(payload.data(), payload.size()) != checksum)
    return fail("corrupted checkpoint (checksum mismatch)");
  if (payload.size() < 8) return fail("corrupted checkpoint: no header");
  const auto json_size = get<std::uint64_t>(payload, 0);
  if (json_size > payload.size() - 8) return fail("corrupted checkpoint: header past the end");
  Checkpoint checkpoint;
  try {
    const auto header = nlohmann::ordered_json::parse(payload.substr(8, json_size));
    ArrayReader arrays(header.at("arrays"), payload.substr(8 + json_size), file);
    checkpoint.identity = header.at("identity");
    checkpoint.callbacks = header.at("callbacks");
    checkpoint.state = decode_state(header.at("state"), arrays);
    checkpoint.checksum = checksum;
  } catch (const nlohmann::json::exception& e) {
    return fail(std::string("corrupted checkpoint header: ") + e.what());
  }
  return checkpoint;
}

Checkpoint load_checkpoint(const std::filesystem::path& path) {
  const std::string file = path.string();
  if (const auto problem = input_file_problem(path, UINTMAX_MAX))
    throw DataError(file, 0, 0, *problem + ", expected a checkpoint");
  std::ifstream in(path, std::ios::binary);
  if (!in)  // errno is the open's (ifstream reports nothing else)
    throw DataError(file, 0, 0, std::string("cannot open checkpoint: ") + std::strerror(errno));
  std::ostringstream bytes;
  // An empty file fails the insertion too; parse_checkpoint names it truncated.
  if (!(bytes << in.rdbuf()) && in.bad()) throw DataError(file, 0, 0, "cannot read checkpoint");
  return parse_checkpoint(bytes.view(), file);
}

}  // namespace localsgd::core
