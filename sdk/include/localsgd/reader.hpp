// Data reader plugins: turn a file (or nothing, for generators) into a Dataset.
//
// Report malformed input by throwing DataError with the file, line and column of the
// first problem; the core prints it as "file:line:col: message" and exits with 3.
#pragma once

#include "localsgd/language.hpp"  // first: C++20 or one clear error

#include <string>

#include "localsgd/abi.hpp"
#include "localsgd/data.hpp"
#include "localsgd/errors.hpp"
#include "localsgd/params.hpp"

namespace localsgd {

struct ReadRequest {
  std::string path;  // "" when the user gave no --data (generators ignore it)
};

class LOCALSGD_API Reader {
 public:
  virtual ~Reader() = default;
  virtual Dataset read(const ReadRequest& request) const = 0;
};

}  // namespace localsgd
