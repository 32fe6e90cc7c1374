// libFuzzer harness for the config loader: arbitrary bytes as `localsgd --config FILE
// train --print-config` — CLI11's TOML/INI parser, the typed conversion and checks of
// every train option, and TrainOptions' validation, exactly as main() builds them
// (cli/app.cpp). --print-config stops before loading data or running. A parse error or
// a refused option is an exception with a message; anything else is a finding.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const localsgd::fuzz::MemoryFile file(data, size);
  const std::string path = file.path();
  CLI::App app;
  localsgd::cli::build_app(app);
  std::ostringstream printed;  // --print-config's output, dropped
  std::streambuf* const stdout_buffer = std::cout.rdbuf(printed.rdbuf());
  try {
    const char* argv[] = {"localsgd", "--config", path.c_str(), "train", "--print-config"};
    app.parse(5, const_cast<char**>(argv));
  } catch (const std::exception&) {
  }
  std::cout.rdbuf(stdout_buffer);
  return 0;
}
