// Parsing one piece of a libsvm file: a run of whole lines, in place.
//
// A file is parsed as one or several chunks (parallel_parse.hpp). Nothing carries over
// from one line to the next, so a chunk parses on its own into its place in the file's
// arrays. The only things that need the whole file are the line
// numbers of errors (a chunk counts its own lines; the caller adds the lines before it)
// and the choice of zero_based=auto (each chunk reports whether it saw an index 0).
#pragma once

#include <cstddef>
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

// Upper bounds on what a chunk holds, found by one fast pass: a row per line that starts
// with neither a newline nor '#', an entry per ':' and per 4 bytes. The file's arrays are sized
// from them before any chunk is parsed, so every chunk writes its rows straight into place and the
// file is never held twice.
struct ChunkBounds {
  std::size_t rows = 0;
  std::size_t entries = 0;
};
ChunkBounds bound_chunk(const char* begin, const char* end);

// Where a chunk's rows go: into the file's arrays, at the chunk's first row and entry,
// with room for its bounds.
struct ChunkOutput {
  double* label;
  std::int64_t* row_end;  // row_end[r]: where row r ends in the file's index/value
  std::int32_t* index;    // 0-based when the base is known, else as written
  double* value;
  std::int64_t first_entry;  // the position of index[0] in the file's arrays
};

struct ChunkResult {
  std::size_t rows = 0;                  // written to the output
  std::size_t entries = 0;               // written to the output
  std::int64_t max_index = -1;           // largest index as written in the file
  const char* max_index_line = nullptr;  // the first line holding it (its last feature)
  bool saw_zero = false;                 // some index is 0
  std::optional<ChunkError> error;
};

// Parses the lines in [begin, end) into `out`, which has room for bound_chunk(begin, end).
// Requires end[-1] == '\n' (the caller puts a sentinel after the file, and cuts chunks
// just after a newline), so every scan stops in range. Stops at the first malformed token
// and reports it in `error`; nothing is thrown. Indices are stored 0-based for
// IndexBase::kOne and as written otherwise.
ChunkResult parse_chunk(const char* begin, const char* end, IndexBase base, const ChunkOutput& out);

}  // namespace localsgd::libsvm
