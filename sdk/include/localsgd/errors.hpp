// Exception types a plugin may throw to report a user's mistake precisely.
//
// The core maps them to exit codes (README "Output and exit codes"): DataError -> 3, ParamError
// -> 2. Any other exception escaping a plugin is reported as a plugin error (exit 4).
#pragma once

#include "localsgd/language.hpp"  // first: C++20 or one clear error

#include <cstdint>
#include <stdexcept>
#include <string>

#include "localsgd/abi.hpp"

namespace localsgd {

// Bad input data: names the file, and the 1-based line and column where known (0 = unknown).
class LOCALSGD_API DataError : public std::runtime_error {
 public:
  DataError(std::string file, std::int64_t line, std::int64_t column, const std::string& what)
      : std::runtime_error(what), file_(std::move(file)), line_(line), column_(column) {}

  const std::string& file() const noexcept { return file_; }
  std::int64_t line() const noexcept { return line_; }
  std::int64_t column() const noexcept { return column_; }

  // "file:line:col: message", leaving out the parts that are unknown.
  std::string located_message() const {
    std::string out = file_;
    if (line_ > 0) out.append(":").append(std::to_string(line_));
    if (line_ > 0 && column_ > 0) out.append(":").append(std::to_string(column_));
    if (!out.empty()) out.append(": ");
    return out.append(what());
  }

 private:
  std::string file_;
  std::int64_t line_;
  std::int64_t column_;
};

// A plugin parameter (--param, --reader-param, ...) that is missing, unknown or malformed.
class LOCALSGD_API ParamError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

}  // namespace localsgd
