// Model files: what `train --out` and `solve --out` write, what `eval`, `predict` and
// `--init` read, and what a plugin writes to hand the core a model (the synthetic
// reader's truth=FILE). The one writer of the format: the core's save_model uses it too.
//
// Format (text, version 1): a one-line JSON header, then one coefficient per line in
// shortest round-trip decimal form (std::to_chars):
//   {"cols":300,"dimension":300,"format":"localsgd-model","objective":"logreg",
//    "params":{"lambda":"2e-05"},"plugin_path":"/usr/lib/localsgd/plugins/logreg.so",
//    "plugin_version":"1.0.0","version":1}
//   0.12345
//   ...
// plugin_path and plugin_version are optional (readers take their absence as unknown).
// The header is compact JSON with its keys, and those of "params", in byte order, strings
// escaped as JSON requires (", \ and control characters; other UTF-8 as is): exactly
// nlohmann::json's dump() of the same object, which the core parses it with.
//
// Not part of sdk.hpp: include this header where needed.
#pragma once

#include "localsgd/language.hpp"  // first: C++20 or one clear error

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <map>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "localsgd/atomic_file.hpp"

namespace localsgd {

inline constexpr int kModelFormatVersion = 1;

struct Model {
  std::string objective;                      // plugin name
  std::map<std::string, std::string> params;  // the objective's parameters, resolved
  std::int64_t cols = 0;                      // feature columns of the training data
  std::vector<double> coefficients;
  // Where the objective plugin was loaded from (canonical path) and its version, so that
  // eval and predict find a plugin given by path; empty when not recorded (optional keys).
  std::string plugin_path;
  std::string plugin_version;
};

namespace model_file_detail {

// `text` as a JSON string. Throws std::invalid_argument for text that is not UTF-8, which
// a JSON file cannot hold.
inline void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20) {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 0xF];
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // A multi-byte UTF-8 sequence, copied as it is once it is known to be well-formed
    // (no overlong forms, no surrogates, nothing above U+10FFFF).
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      if (c == 0xE0) low = 0xA0;
      if (c == 0xED) high = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      if (c == 0xF0) low = 0x90;
      if (c == 0xF4) high = 0x8F;
    }
    bool valid = length > 0 && i + length <= text.size();
    for (std::size_t k = 1; valid && k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      valid = k == 1 ? next >= low && next <= high : next >= 0x80 && next <= 0xBF;
    }
    if (!valid)
      throw std::invalid_argument("model file: text is not valid UTF-8 (byte " + std::to_string(i) +
                                  " of '" + std::string(text) + "')");
    out.append(text.substr(i, length));
    i += length;
  }
  out += '"';
}

}  // namespace model_file_detail

// The header line of `model`, without its newline.
inline std::string model_header(const Model& model) {
  using model_file_detail::append_json_string;
  std::string out = "{\"cols\":" + std::to_string(model.cols) +
                    ",\"dimension\":" + std::to_string(model.coefficients.size()) +
                    ",\"format\":\"localsgd-model\",\"objective\":";
  append_json_string(out, model.objective);
  out += ",\"params\":{";
  bool first = true;
  for (const auto& [key, value] : model.params) {  // std::map: keys in byte order
    if (!first) out += ',';
    first = false;
    append_json_string(out, key);
    out += ':';
    append_json_string(out, value);
  }
  out += '}';
  if (!model.plugin_path.empty()) {
    out += ",\"plugin_path\":";
    append_json_string(out, model.plugin_path);
  }
  if (!model.plugin_version.empty()) {
    out += ",\"plugin_version\":";
    append_json_string(out, model.plugin_version);
  }
  out += ",\"version\":" + std::to_string(kModelFormatVersion) + "}";
  return out;
}

// The whole model file, to a stream (check its state afterwards).
inline void write_model(std::ostream& out, const Model& model) {
  out << model_header(model) << '\n';
  char buffer[32];
  for (double v : model.coefficients) {
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
    out.write(buffer, end - buffer).put('\n');
  }
}

// The model file at `path`, written atomically (atomic_file.hpp). Throws DataError naming
// `path` when it cannot be written.
inline void write_model_file(const std::filesystem::path& path, const Model& model) {
  write_file_atomically(path, [&model](std::ostream& out) { write_model(out, model); });
}

}  // namespace localsgd
