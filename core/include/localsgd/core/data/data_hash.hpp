// A data set's content hash, for run identities (checkpoints, the ranks' agreement) and the
// f* cache: equal data sets, equal hashes, whatever the file they came from.
//
// It is made of a hash per row, keyed by the row's number, added up modulo 2^64, so that
// ranks that each read some rows (ReadRequest::select_rows) add up their parts and get the
// hash of the whole data without any of them holding it.
#pragma once

#include <cstdint>
#include <span>

#include "localsgd/sdk.hpp"

namespace localsgd::core {

// The sum of the row hashes of `rows` (numbers into `data`): the part of dataset_hash
// that covers their features. Any order, any split of the rows: the same sum.
std::uint64_t row_hash_sum(const DataView& data, std::span<const std::int64_t> rows);
std::uint64_t row_hash_sum(const DataView& data);  // of every row

// The hash of a data set with data.rows() rows, data.cols columns, data.label, and the
// features whose row hashes sum to `row_sum`.
std::uint64_t dataset_hash(const DataView& data, std::uint64_t row_sum);
std::uint64_t dataset_hash(const DataView& data);  // every row here

}  // namespace localsgd::core
