// libFuzzer harness for a reader plugin (LOCALSGD_FUZZ_READER: libsvm, csv or bin) and the
// core's validation of what it returns: arbitrary bytes must give a data set or a
// DataError, never a crash, a sanitizer report or a hang.
#include <cstddef>
#include <cstdint>
#include <exception>

#include "fuzz_input.hpp"
#include "localsgd/core/data/loading.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const localsgd::fuzz::MemoryFile file(data, size);
  try {
    const localsgd::Dataset d =
        localsgd::core::load_dataset(file.path(), LOCALSGD_FUZZ_READER, localsgd::ParamMap{});
    (void)d.nnz();
  } catch (const std::exception&) {
    // A refused input: the message is the product, the exception is expected.
  }
  return 0;
}
