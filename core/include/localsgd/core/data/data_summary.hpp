// What `localsgd data inspect` reports about a data set.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "localsgd/sdk.hpp"

namespace localsgd::core {

struct DataSummary {
  std::int64_t rows = 0, cols = 0, nnz = 0;
  double density = 0;                          // nnz / (rows * cols); 0 when that is 0
  std::map<double, std::int64_t> labels;       // label value -> number of rows
  std::optional<double> min_value, max_value;  // over the stored entries; none when nnz = 0
  std::int64_t empty_rows = 0;                 // rows without stored entries
  std::string source;
};

DataSummary summarize(const Dataset& data);

}  // namespace localsgd::core
