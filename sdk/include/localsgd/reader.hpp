// Data reader plugins: turn a file (or nothing, for generators) into a Dataset.
//
// Report malformed input by throwing DataError with the file, line and column of the
// first problem; the core prints it as "file:line:col: message" and exits with 3.
#pragma once

#include "localsgd/language.hpp"  // first: C++20 or one clear error

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "localsgd/abi.hpp"
#include "localsgd/data.hpp"
#include "localsgd/errors.hpp"
#include "localsgd/params.hpp"

namespace localsgd {

struct ReadRequest {
  // Every row's label (in file order) and the file's stored entries -> a mark per row.
  using RowSelector =
      std::function<std::vector<bool>(std::span<const double> labels, std::int64_t entries)>;
  ReadRequest(std::string file = {}, RowSelector select = {})  // NOLINT: read({path}) reads
      : path(std::move(file)), select_rows(std::move(select)) {}

  std::string path;  // "" when the user gave no --data (generators ignore it)
  // Optional (empty for most reads): the rows whose features the caller needs, for a rank
  // of an MPI run that trains on some rows only. A reader that can skip rows calls it once,
  // when it knows every row's label and the file's stored entries (the whole file still
  // parsed and checked: an error anywhere is reported), and keeps the features of the rows
  // marked true only. Every row keeps its label; the others are empty. It then sets
  // Dataset::selected_from_entries. A reader that cannot skip rows ignores it: the core
  // drops the rows it does not need after reading them all.
  RowSelector select_rows;
};

class LOCALSGD_API Reader {
 public:
  virtual ~Reader() = default;
  virtual Dataset read(const ReadRequest& request) const = 0;
};

}  // namespace localsgd
