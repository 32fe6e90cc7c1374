// The in-memory data set: one CSR matrix (rows = samples) plus a label per row.
//
// Readers fill a Dataset; the core holds exactly one per run and hands objectives a
// read-only DataView of it, shared by all workers. Column indices are 0-based and
// strictly ascending within a row; rows may be empty.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace localsgd {

// One sample's stored features: parallel arrays of column indices and values.
struct SparseRow {
  const std::int32_t* index;
  const double* value;
  std::int64_t size;

  // Sparse dot product with a dense vector; the hot path of every linear model.
  double dot(const double* x) const {
    double sum = 0.0;
    for (std::int64_t j = 0; j < size; ++j) sum += value[j] * x[index[j]];
    return sum;
  }
};

// Non-owning, read-only view of a CSR data set.
struct DataView {
  std::span<const std::int64_t> row_ptr;  // rows + 1 offsets into index/value
  std::span<const std::int32_t> index;    // 0-based column of each stored entry
  std::span<const double> value;          // value of each stored entry
  std::span<const double> label;          // one label (or target) per row
  std::int64_t cols = 0;                  // number of feature columns

  std::int64_t rows() const { return static_cast<std::int64_t>(label.size()); }
  std::int64_t nnz() const { return static_cast<std::int64_t>(index.size()); }
  SparseRow row(std::int64_t i) const {
    const std::int64_t begin = row_ptr[static_cast<std::size_t>(i)];
    const std::int64_t end = row_ptr[static_cast<std::size_t>(i) + 1];
    return {index.data() + begin, value.data() + begin, end - begin};
  }
};

// Owning CSR storage, as produced by a reader plugin.
struct Dataset {
  std::vector<std::int64_t> row_ptr{0};
  std::vector<std::int32_t> index;
  std::vector<double> value;
  std::vector<double> label;
  std::int64_t cols = 0;
  std::string source;  // file name or a description such as "synthetic(n=...,seed=...)"

  DataView view() const { return {row_ptr, index, value, label, cols}; }
  std::int64_t rows() const { return static_cast<std::int64_t>(label.size()); }
  std::int64_t nnz() const { return static_cast<std::int64_t>(index.size()); }
};

}  // namespace localsgd
