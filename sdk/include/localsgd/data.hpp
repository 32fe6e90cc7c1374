// The in-memory data set: one CSR matrix (rows = samples) plus a label per row.
//
// Readers return a Dataset; the core holds one per data file of a run (training data,
// --test data) and hands objectives a read-only DataView of it, shared by all workers. Column
// indices are 0-based and strictly ascending within a row; rows may be empty.
#pragma once

#include "localsgd/language.hpp"  // first: C++20 or one clear error

#include <cstddef>
#include <cstdint>
#include <memory>
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

// A data set as a reader returns it. The arrays live in one of two places:
//  - the vectors below, which readers that build the matrix fill (text parsers,
//    generators), or
//  - storage the reader lends without copying, such as the bin reader's memory-mapped
//    file: `external` views it, `external_owner` keeps it alive (copies of the Dataset
//    share it) and the vectors stay as default-constructed.
// Read a Dataset through view() (or rows(), nnz()), which shows whichever holds the data.
struct Dataset {
  std::vector<std::int64_t> row_ptr{0};
  std::vector<std::int32_t> index;
  std::vector<double> value;
  std::vector<double> label;
  std::int64_t cols = 0;
  std::string source;  // file name or a description such as "synthetic(n=...,seed=...)"

  // -1, or the whole file's stored entries when a reader honoured ReadRequest::select_rows:
  // then only the selected rows hold their features (the others are empty, with labels).
  std::int64_t selected_from_entries = -1;

  DataView external;                           // its cols is unused: `cols` above counts
  std::shared_ptr<const void> external_owner;  // set iff the arrays are external

  bool is_external() const { return external_owner != nullptr; }
  DataView view() const {
    if (!is_external()) return {row_ptr, index, value, label, cols};
    DataView v = external;
    v.cols = cols;
    return v;
  }
  std::int64_t rows() const { return view().rows(); }
  std::int64_t nnz() const { return view().nnz(); }

  // Copies external arrays into the vectors and drops the external storage, so that the
  // data set can be edited in place; does nothing to a data set that owns its arrays.
  void make_owned() {
    if (!is_external()) return;
    row_ptr.assign(external.row_ptr.begin(), external.row_ptr.end());
    index.assign(external.index.begin(), external.index.end());
    value.assign(external.value.begin(), external.value.end());
    label.assign(external.label.begin(), external.label.end());
    external = {};
    external_owner.reset();
  }
};

}  // namespace localsgd
