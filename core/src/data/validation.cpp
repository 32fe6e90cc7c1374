#include "localsgd/core/data/validation.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "localsgd/core/errors.hpp"

namespace localsgd::core {
namespace {

struct Fault {
  bool plugin_bug = true;  // else bad data in the file
  std::string what;
};

// The first problem in row i, if any (the row pointers are known to be in range).
std::optional<Fault> check_row(const DataView& v, std::int64_t i) {
  const auto begin = v.row_ptr[static_cast<std::size_t>(i)];
  const auto end = v.row_ptr[static_cast<std::size_t>(i) + 1];
  const double label = v.label[static_cast<std::size_t>(i)];
  if (!std::isfinite(label)) return Fault{false, "label is not finite: " + brief_number(label)};
  if (std::abs(label) > kMaxFeatureMagnitude)
    return Fault{false, "label " + brief_number(label) +
                            " is too large: magnitudes above 1e150 overflow when squared; "
                            "rescale the target"};
  std::int64_t previous = -1;
  for (std::int64_t e = begin; e < end; ++e) {
    const std::int64_t j = v.index[static_cast<std::size_t>(e)];
    const double x = v.value[static_cast<std::size_t>(e)];
    if (j < 0 || j >= v.cols)
      return Fault{true, "column index " + std::to_string(j) + " is outside [0, " +
                             std::to_string(v.cols) + ")"};
    if (j <= previous)
      return Fault{true, "column indices are not strictly ascending (" + std::to_string(previous) +
                             " then " + std::to_string(j) + ")"};
    previous = j;
    if (!std::isfinite(x))
      return Fault{true, "value in column " + std::to_string(j + 1) + " (1-based) is not finite"};
    if (std::abs(x) > kMaxFeatureMagnitude)
      return Fault{false, "feature value " + brief_number(x) + " in column " +
                              std::to_string(j + 1) +
                              " (1-based) is too large: magnitudes above 1e150 overflow "
                              "when squared; rescale the feature"};
  }
  return std::nullopt;
}

}  // namespace

void validate_reader_output(const Dataset& data, const std::string& reader,
                            const std::string& path) {
  const DataView v = data.view();
  const std::string who = "reader '" + reader + "' returned an invalid data set: ";
  if (v.row_ptr.size() != v.label.size() + 1 || v.index.size() != v.value.size())
    throw PluginError(who + "array sizes disagree (" + std::to_string(v.row_ptr.size()) +
                      " row pointers for " + std::to_string(v.label.size()) + " labels, " +
                      std::to_string(v.index.size()) + " indices for " +
                      std::to_string(v.value.size()) + " values)");
  if (v.cols < 0 || v.cols > std::numeric_limits<std::int32_t>::max())
    throw PluginError(who + "column count " + std::to_string(v.cols) + " is out of range");
  if (v.row_ptr.front() != 0)
    throw PluginError(who + "the first row pointer is " + std::to_string(v.row_ptr.front()) +
                      ", not 0");
  if (v.row_ptr.back() != v.nnz())
    throw PluginError(who + "the last row pointer is " + std::to_string(v.row_ptr.back()) +
                      ", not the " + std::to_string(v.nnz()) + " stored entries");
  for (std::size_t i = 0; i + 1 < v.row_ptr.size(); ++i)
    if (v.row_ptr[i + 1] < v.row_ptr[i])
      throw PluginError(who + "row pointers decrease at row " + std::to_string(i + 1) + " (" +
                        std::to_string(v.row_ptr[i]) + " then " + std::to_string(v.row_ptr[i + 1]) +
                        ")");

  // The first bad row, found in parallel (a pass over the entries, like reading them).
  const std::int64_t none = v.rows();
  const std::int64_t first = tbb::parallel_reduce(
      tbb::blocked_range<std::int64_t>(0, v.rows(), 4096), none,
      [&](const tbb::blocked_range<std::int64_t>& r, std::int64_t found) {
        for (std::int64_t i = r.begin(); i < r.end() && i < found; ++i)
          if (check_row(v, i)) return i;
        return found;
      },
      [](std::int64_t a, std::int64_t b) { return std::min(a, b); });
  if (first == none) return;
  const Fault fault = *check_row(v, first);
  const std::string row = "row " + std::to_string(first + 1) + ": ";
  if (fault.plugin_bug) throw PluginError(who + row + fault.what);
  throw DataError(path.empty() ? data.source : path, 0, 0, row + fault.what);
}

}  // namespace localsgd::core
