// libFuzzer harness for the checkpoint loader (--resume): arbitrary bytes must give a
// checkpoint or a DataError, never a crash, a sanitizer report or a hang.
//
// The first byte picks what the rest is. 0: a whole file, so the envelope (magic, version,
// sizes, checksum) is fuzzed. Otherwise: a payload, wrapped here in a valid envelope with
// its checksum, so that mutations reach the JSON header, the array list and the state
// decoding instead of all dying at the checksum.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include "localsgd/core/data/binary_format.hpp"
#include "localsgd/core/io/checkpoint_file.hpp"

namespace {

template <class T>
void put(std::string& bytes, T value) {
  bytes.append(reinterpret_cast<const char*>(&value), sizeof value);
}

std::string wrap(std::string_view payload) {
  std::string file = "LSGDCKPT";
  put<std::uint32_t>(file, localsgd::core::kCheckpointFormatVersion);
  put<std::uint32_t>(file, 0);
  put<std::uint64_t>(file, payload.size());
  file.append(payload);
  put<std::uint64_t>(file, localsgd::core::binary::hash64(payload.data(), payload.size()));
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string bytes = data[0] == 0 ? std::string(rest) : wrap(rest);
  try {
    (void)localsgd::core::parse_checkpoint(bytes, "fuzz.ckpt").state.step;
  } catch (const std::exception&) {
  }
  return 0;
}
