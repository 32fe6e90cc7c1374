#include "localsgd/core/data/data_summary.hpp"

#include <algorithm>

namespace localsgd::core {

DataSummary summarize(const Dataset& dataset) {
  const DataView data = dataset.view();
  DataSummary s;
  s.rows = data.rows();
  s.cols = dataset.cols;
  s.nnz = data.nnz();
  const double cells = static_cast<double>(s.rows) * static_cast<double>(s.cols);
  s.density = cells > 0 ? static_cast<double>(s.nnz) / cells : 0.0;
  for (const double y : data.label) ++s.labels[y];
  if (!data.value.empty()) {
    const auto [lo, hi] = std::minmax_element(data.value.begin(), data.value.end());
    s.min_value = *lo;
    s.max_value = *hi;
  }
  for (std::size_t i = 0; i + 1 < data.row_ptr.size(); ++i)
    s.empty_rows += data.row_ptr[i] == data.row_ptr[i + 1] ? 1 : 0;
  s.source = dataset.source;
  return s;
}

}  // namespace localsgd::core
