#include "localsgd/core/data/data_hash.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>

#include "localsgd/core/data/binary_format.hpp"

namespace localsgd::core {
namespace {

// Row i's index and value arrays, keyed by i: a row moved or split differently changes it.
std::uint64_t row_hash(std::int64_t i, const SparseRow& row) {
  const auto size = static_cast<std::size_t>(row.size);
  const std::uint64_t parts[] = {static_cast<std::uint64_t>(i),
                                 binary::hash64(row.index, size * sizeof(std::int32_t)),
                                 binary::hash64(row.value, size * sizeof(double))};
  return binary::hash64(parts, sizeof parts);
}

// The sum over rows(k) for k in [0, count), in parallel (a sum modulo 2^64 does not
// depend on the order).
template <class Row>
std::uint64_t sum_rows(const DataView& data, std::int64_t count, Row row_number) {
  return tbb::parallel_reduce(
      tbb::blocked_range<std::int64_t>(0, count, 4096), std::uint64_t{0},
      [&](const tbb::blocked_range<std::int64_t>& range, std::uint64_t sum) {
        for (std::int64_t k = range.begin(); k != range.end(); ++k) {
          const std::int64_t i = row_number(k);
          sum += row_hash(i, data.row(i));
        }
        return sum;
      },
      [](std::uint64_t a, std::uint64_t b) { return a + b; });
}

}  // namespace

std::uint64_t row_hash_sum(const DataView& data, std::span<const std::int64_t> rows) {
  return sum_rows(data, static_cast<std::int64_t>(rows.size()),
                  [&](std::int64_t k) { return rows[static_cast<std::size_t>(k)]; });
}

std::uint64_t row_hash_sum(const DataView& data) {
  return sum_rows(data, data.rows(), [](std::int64_t k) { return k; });
}

std::uint64_t dataset_hash(const DataView& data, std::uint64_t row_sum) {
  const std::uint64_t parts[] = {
      static_cast<std::uint64_t>(data.rows()), static_cast<std::uint64_t>(data.cols),
      binary::hash64(data.label.data(), data.label.size_bytes()), row_sum};
  return binary::hash64(parts, sizeof parts);
}

std::uint64_t dataset_hash(const DataView& data) {
  return dataset_hash(data, row_hash_sum(data));
}

}  // namespace localsgd::core
