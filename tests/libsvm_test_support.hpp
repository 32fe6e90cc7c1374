// Helpers for the libsvm reader tests: reading through the plugin as the core does, and a
// generator of varied, valid multi-megabyte files. (expect_same_data is in test_support.hpp.)
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <iterator>
#include <map>
#include <random>
#include <string>

#include "localsgd/core/plugins/plugins.hpp"
#include "test_support.hpp"

namespace localsgd::testing {

inline Dataset read_libsvm(const std::filesystem::path& path,
                           const std::map<std::string, std::string>& params = {}) {
  const auto& manifest = core::load_plugin("libsvm", PluginKind::reader);
  return core::make_reader(manifest, ParamMap(params))->read({path.string()});
}

// About `bytes` of valid libsvm text that exercises every accepted form: comments, blank
// lines, CRLF, tabs, rows without features, qid, explicit and negative zeros, exponents,
// underflow, long decimals, leading zeros. 1-based indices, starting at `first_index`.
inline std::string varied_libsvm_text(std::size_t bytes, std::uint32_t seed, int first_index = 1) {
  std::mt19937 rng(seed);
  const char* labels[] = {"+1", "-1", "1", "-1.0", "1e0", "0", "+0.5"};
  const char* values[] = {"1",
                          "0",
                          "-0",
                          "0.5",
                          "-2.25",
                          "1e-3",
                          "3.5E+2",
                          "1e-400",
                          "0.1234567890123456789",
                          "007",
                          "+1",
                          ".5",
                          "-7.",
                          "12345678901234567890",
                          "2.5e-310",
                          "0.000001"};
  std::string text;
  std::uniform_int_distribution<int> kind(0, 19), entries(0, 30), gap(1, 50), pick(0, 15);
  while (text.size() < bytes) {
    switch (kind(rng)) {
      case 0: text += "# a comment 1:2 3:4\n"; continue;
      case 1: text += "\n"; continue;
      case 2: text += "  \t \r\n"; continue;
      default: break;
    }
    text += labels[rng() % std::size(labels)];
    if (kind(rng) == 0) text += " qid:" + std::to_string(rng() % 100);
    int index = first_index - 1;
    for (int e = entries(rng); e > 0; --e) {
      index += gap(rng);
      text += kind(rng) == 0 ? "\t" : " ";
      text += std::to_string(index) + ":" + values[pick(rng)];
    }
    const int end = kind(rng);
    text += end == 0 ? " # trailing comment\n" : end == 1 ? "\r\n" : "\n";
  }
  return text;
}

}  // namespace localsgd::testing
