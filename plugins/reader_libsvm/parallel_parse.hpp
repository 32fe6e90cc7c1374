// Parsing a whole libsvm buffer, in parallel when it is large.
//
// The buffer is cut just after newlines into chunks, each chunk's rows and entries are
// bounded by counting its newlines and colons (bound_chunk), the file's arrays are sized
// from the bounds once, and the chunks are parsed concurrently with oneTBB (parse_chunk)
// straight into their places; the gaps the bounds leave are closed in file order. The result
// is the same, bit for bit, for any number of chunks and threads: lines are independent,
// numbers parse exactly, and the decisions that need the whole file (zero_based=auto,
// the column count, the first error) are made after all chunks are done.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include <localsgd/data.hpp>

#include "chunk_parser.hpp"

namespace localsgd::libsvm {

struct ParseOptions {
  IndexBase base = IndexBase::kOne;
  // Bytes per chunk; 0 = automatic (one chunk on one thread, else a few per thread).
  std::size_t chunk_bytes = 0;
};

// Parses bytes[0, size), where bytes[size] == '\n' (a sentinel), into a Dataset whose
// source is `name`. Throws DataError naming `name` and the line and column of the first
// error in file order; "no data rows" when there is not a single row.
Dataset parse_buffer(const char* bytes, std::size_t size, const std::string& name,
                     const ParseOptions& options);

// parse_buffer keeping the features of some rows only (ReadRequest::select_rows): a first
// pass parses and checks every line and keeps the labels and row sizes, `select` is called
// with the labels and the entry count, and a second pass parses again the chunks that hold
// selected rows, copying those rows into place. Peak memory is the selected rows plus 24
// bytes a row, whatever the chunk size option (automatic chunks are small here, so that no
// chunk's scratch copy is large). Every row keeps its label; the others are empty; the
// kept rows are bit for bit parse_buffer's. Sets Dataset::selected_from_entries.
Dataset parse_buffer_selected(
    const char* bytes, std::size_t size, const std::string& name, const ParseOptions& options,
    const std::function<std::vector<bool>(std::span<const double>, std::int64_t)>& select);

}  // namespace localsgd::libsvm
