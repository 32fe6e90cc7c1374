// libFuzzer harness for the model file loader (eval, predict, --init): arbitrary bytes
// must give a model or a DataError, never a crash, a sanitizer report or a hang.
#include <cstddef>
#include <cstdint>
#include <exception>

#include "fuzz_input.hpp"
#include "localsgd/core/io/model_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const localsgd::fuzz::MemoryFile file(data, size);
  try {
    (void)localsgd::core::load_model(file.path()).coefficients.size();
  } catch (const std::exception&) {
  }
  return 0;
}
