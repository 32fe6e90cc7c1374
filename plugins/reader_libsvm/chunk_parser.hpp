// Parsing one piece of a libsvm file: a run of whole lines, in place.
//
// A file is parsed as one or several chunks (parallel_parse.hpp). Nothing carries over
// from one line to the next, so a chunk parses on its own, and the file's result is the
// chunks' results concatenated. The only things that need the whole file are the line
// numbers of errors (a chunk counts its own lines; the caller adds the lines before it)
// and the choice of zero_based=auto (each chunk reports whether it saw an index 0).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace localsgd::libsvm {

enum class IndexBase { kOne, kZero, kAuto };

// The first problem in a chunk; `line` counts from the chunk's first line (1-based).
struct ChunkError {
  std::int64_t line = 0;
  std::int64_t column = 0;
  std::string message;
};

struct ChunkResult {
  std::vector<std::int64_t> row_ptr{0};  // offsets into index/value, local to the chunk
  std::vector<std::int32_t> index;       // 0-based when the base is known, else as written
  std::vector<double> value;
  std::vector<double> label;
  std::int64_t max_index = -1;  // largest index as written in the file
  bool saw_zero = false;        // some index is 0
  std::optional<ChunkError> error;
};

// Parses the lines in [begin, end). Requires end[-1] == '\n' (the caller puts a sentinel
// after the file, and cuts chunks just after a newline), so every scan stops in range.
// Stops at the first malformed token and reports it in `error`; nothing is thrown.
// Indices are stored 0-based for IndexBase::kOne and as written otherwise.
ChunkResult parse_chunk(const char* begin, const char* end, IndexBase base);

}  // namespace localsgd::libsvm
