// Key=value parameters handed to a plugin factory (--param k=v, --reader-param k=v, ...).
//
// The core has already checked every key against the plugin's manifest, so a plugin
// only asks for the keys it declared. Typed getters parse strictly: "1e-3x" is an error,
// not 1e-3, and the error names the parameter.
#pragma once

#include "localsgd/language.hpp"  // first: C++20 or one clear error

#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "localsgd/errors.hpp"

namespace localsgd {

// The shortest text that ParamMap::number parses back to exactly `value`: how
// resolved_params() should write numbers, so a model file rebuilds the same objective.
inline std::string format_number(double value) {
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  return std::string(buffer, end);
}

class ParamMap {
 public:
  ParamMap() = default;
  explicit ParamMap(std::map<std::string, std::string> values) : values_(std::move(values)) {}

  bool has(const std::string& key) const { return values_.count(key) != 0; }
  const std::map<std::string, std::string>& all() const { return values_; }
  void set(const std::string& key, std::string value) { values_[key] = std::move(value); }

  std::string text(const std::string& key, const std::string& fallback) const {
    auto it = values_.find(key);
    return it == values_.end() ? fallback : it->second;
  }

  double number(const std::string& key, double fallback) const {
    auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    const std::string& s = it->second;
    double value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(value))
      throw ParamError("parameter " + key + "=" + s + ": expected a finite number");
    return value;
  }

  std::int64_t integer(const std::string& key, std::int64_t fallback) const {
    auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    const std::string& s = it->second;
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size())
      throw ParamError("parameter " + key + "=" + s + ": expected an integer");
    return value;
  }

  bool boolean(const std::string& key, bool fallback) const {
    auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    const std::string& s = it->second;
    if (s == "true" || s == "1" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "0" || s == "no" || s == "off") return false;
    throw ParamError("parameter " + key + "=" + s +
                     ": expected true or false (or 1/0, yes/no, on/off; lower case)");
  }

  // Range checks with a message that names the parameter and the allowed range.
  double positive_number(const std::string& key, double fallback) const {
    double v = number(key, fallback);
    if (!(v > 0)) throw ParamError("parameter " + key + "=" + text(key, "") + ": must be > 0");
    return v;
  }
  double nonnegative_number(const std::string& key, double fallback) const {
    double v = number(key, fallback);
    if (!(v >= 0)) throw ParamError("parameter " + key + "=" + text(key, "") + ": must be >= 0");
    return v;
  }
  std::int64_t positive_integer(const std::string& key, std::int64_t fallback) const {
    std::int64_t v = integer(key, fallback);
    if (v <= 0) throw ParamError("parameter " + key + "=" + text(key, "") + ": must be >= 1");
    return v;
  }
  std::int64_t nonnegative_integer(const std::string& key, std::int64_t fallback) const {
    std::int64_t v = integer(key, fallback);
    if (v < 0) throw ParamError("parameter " + key + "=" + text(key, "") + ": must be >= 0");
    return v;
  }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace localsgd
