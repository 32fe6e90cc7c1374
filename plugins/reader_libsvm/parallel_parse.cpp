#include "parallel_parse.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <localsgd/errors.hpp>

#include "numbers.hpp"

namespace localsgd::libsvm {
namespace {

// Below this size a file is parsed in one piece: threads would cost more than they save.
constexpr std::size_t kParallelThreshold = std::size_t{1} << 20;
// Automatic chunks: about this size, so a chunk's counting pass leaves it in the core's
// cache for the parse, and a slow chunk cannot hold up the others for long.
constexpr std::size_t kAutoChunkBytes = std::size_t{1} << 20;

int usable_threads() {
  const auto cap = tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism);
  return static_cast<int>(std::min<std::size_t>(
      cap, static_cast<std::size_t>(tbb::this_task_arena::max_concurrency())));
}

struct Chunk {
  const char* begin;
  const char* end;
};

// Cuts [bytes, bytes + size + 1) (sentinel included) into chunks of at least
// `chunk_bytes` that each end just after a '\n'; a line longer than that makes a longer chunk.
std::vector<Chunk> split(const char* bytes, std::size_t size, std::size_t chunk_bytes) {
  std::vector<Chunk> chunks;
  const char* const stop = bytes + size + 1;
  for (const char* begin = bytes; begin < stop;) {
    const char* end = stop;
    if (static_cast<std::size_t>(stop - begin) > chunk_bytes) {
      const char* from = begin + chunk_bytes - 1;
      end =
          static_cast<const char*>(std::memchr(from, '\n', static_cast<std::size_t>(stop - from))) +
          1;
    }
    chunks.push_back({begin, end});
    begin = end;
  }
  return chunks;
}

std::size_t chunk_size_for(std::size_t size, const ParseOptions& options) {
  if (options.chunk_bytes > 0) return options.chunk_bytes;
  if (size < kParallelThreshold || usable_threads() <= 1) return size + 1;
  return kAutoChunkBytes;
}

// Throws the first error in file order, with its line counted from the file's start.
void throw_first_error(const std::vector<Chunk>& chunks, const std::vector<ChunkResult>& results,
                       const char* bytes, const std::string& name) {
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (!results[i].error) continue;
    const auto lines_before = std::count(bytes, chunks[i].begin, '\n');
    const ChunkError& e = *results[i].error;
    throw DataError(name, lines_before + e.line, e.column, e.message);
  }
}

// Closes the gaps the bounds left where a chunk held fewer rows or entries than its
// newlines and colons (blank and comment lines, qid tokens): moves every chunk's rows
// down to follow the previous chunk's, in file order (each move is to lower addresses),
// then drops the unused tail. Returns the rows.
std::size_t close_gaps(const std::vector<ChunkBounds>& bounds,
                       const std::vector<ChunkResult>& results, Dataset& data) {
  std::size_t bound_row = 0, bound_entry = 0, row = 0, entry = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const ChunkResult& r = results[i];
    if (row != bound_row || entry != bound_entry) {
      std::memmove(data.label.data() + row, data.label.data() + bound_row, r.rows * sizeof(double));
      std::memmove(data.index.data() + entry, data.index.data() + bound_entry,
                   r.entries * sizeof(std::int32_t));
      std::memmove(data.value.data() + entry, data.value.data() + bound_entry,
                   r.entries * sizeof(double));
      const auto moved_by = static_cast<std::int64_t>(bound_entry - entry);
      for (std::size_t k = 1; k <= r.rows; ++k)
        data.row_ptr[row + k] = data.row_ptr[bound_row + k] - moved_by;
    }
    bound_row += bounds[i].rows;
    bound_entry += bounds[i].entries;
    row += r.rows;
    entry += r.entries;
  }
  // Shrinking keeps the capacity: no reallocation, so no second copy of the data. Only
  // an array the bounds overestimated by much (a file of comments, blank lines or qid
  // tokens) is copied into one of its size, so that the slack is not kept for the run.
  data.label.resize(row);
  data.row_ptr.resize(row + 1);
  data.index.resize(entry);
  data.value.resize(entry);
  const auto release_slack = [](auto& array) {
    if (array.capacity() > array.size() + array.size() / 4 + (std::size_t{1} << 16))
      array.shrink_to_fit();
  };
  release_slack(data.label);
  release_slack(data.row_ptr);
  release_slack(data.index);
  release_slack(data.value);
  return row;
}

// What needs every chunk's result: whether indices are 1-based (zero_based=auto decides on
// the whole file: 1-based unless some index is 0), and the largest index as written.
struct IndexFacts {
  std::size_t widest = 0;  // the first chunk with the largest index
  std::int64_t max_index = -1;
  bool one_based = true;
};

IndexFacts index_facts(const std::vector<ChunkResult>& results, const ParseOptions& options) {
  IndexFacts facts;
  bool saw_zero = false;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i].max_index > results[facts.widest].max_index) facts.widest = i;
    saw_zero = saw_zero || results[i].saw_zero;
  }
  facts.max_index = results.empty() ? -1 : results[facts.widest].max_index;
  facts.one_based =
      options.base == IndexBase::kOne || (options.base == IndexBase::kAuto && !saw_zero);
  return facts;
}

// With 0-based indices the column count is one more than the largest: it must fit too.
void check_index_range(const IndexFacts& facts, const std::vector<ChunkResult>& results,
                       const char* bytes, const std::string& name) {
  if (facts.one_based || facts.max_index < kMaxIndex) return;
  // Only on this error is the token looked for (not while parsing): the line's last
  // feature, its largest index. Tokens end at whitespace, a newline or '#'.
  const char* const line = results[facts.widest].max_index_line;
  const auto ends_token = [](char c) { return std::strchr(" \t\r\v\f\n#", c) != nullptr; };
  const char *at = line, *end = line;
  for (const char* p = line; *p != '\n' && *p != '#';) {
    if (ends_token(*p)) {
      ++p;
      continue;
    }
    const char* token = p;
    while (!ends_token(*p)) ++p;
    if (std::find(token, p, ':') != p && !std::string_view(token, p - token).starts_with("qid:")) {
      at = token;
      end = p;
    }
  }
  throw DataError(name, std::count(bytes, at, '\n') + 1, at - line + 1,
                  "index too large in '" + std::string(at, end) + "' (max " +
                      std::to_string(kMaxIndex - 1) + " with 0-based indices)");
}

// zero_based=auto found 1-based indices: the chunks stored them as written.
void shift_down(std::vector<std::int32_t>& index) {
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, index.size()),
                    [&](const tbb::blocked_range<std::size_t>& range) {
                      for (std::size_t k = range.begin(); k != range.end(); ++k) --index[k];
                    });
}

// One chunk parsed into buffers of its own (the selected parse's two passes).
struct ScratchChunk {
  std::vector<double> label;
  std::vector<std::int64_t> row_end;
  std::vector<std::int32_t> index;
  std::vector<double> value;
  ChunkResult result;

  ScratchChunk(const Chunk& chunk, IndexBase base) {
    const ChunkBounds b = bound_chunk(chunk.begin, chunk.end);
    label.resize(b.rows);
    row_end.resize(b.rows);
    index.resize(b.entries);
    value.resize(b.entries);
    result = parse_chunk(chunk.begin, chunk.end, base,
                         {label.data(), row_end.data(), index.data(), value.data(), 0});
  }
};

}  // namespace

Dataset parse_buffer(const char* bytes, std::size_t size, const std::string& name,
                     const ParseOptions& options) {
  const std::vector<Chunk> chunks = split(bytes, size, chunk_size_for(size, options));
  std::vector<ChunkBounds> bounds(chunks.size());
  tbb::parallel_for(std::size_t{0}, chunks.size(), [&](std::size_t i) {
    bounds[i] = bound_chunk(chunks[i].begin, chunks[i].end);
  });
  std::size_t rows_bound = 0, entries_bound = 0;
  for (const ChunkBounds& b : bounds) {
    rows_bound += b.rows;
    entries_bound += b.entries;
  }
  Dataset data;
  data.label.resize(rows_bound);
  data.row_ptr.resize(rows_bound + 1);
  data.index.resize(entries_bound);
  data.value.resize(entries_bound);

  std::vector<ChunkResult> results(chunks.size());
  std::vector<std::size_t> first_row(chunks.size()), first_entry(chunks.size());
  for (std::size_t i = 1; i < chunks.size(); ++i) {
    first_row[i] = first_row[i - 1] + bounds[i - 1].rows;
    first_entry[i] = first_entry[i - 1] + bounds[i - 1].entries;
  }
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, chunks.size(), 1),
                    [&](const tbb::blocked_range<std::size_t>& range) {
                      for (std::size_t i = range.begin(); i != range.end(); ++i) {
                        const ChunkOutput out{data.label.data() + first_row[i],
                                              data.row_ptr.data() + first_row[i] + 1,
                                              data.index.data() + first_entry[i],
                                              data.value.data() + first_entry[i],
                                              static_cast<std::int64_t>(first_entry[i])};
                        results[i] = parse_chunk(chunks[i].begin, chunks[i].end, options.base, out);
                      }
                    });
  throw_first_error(chunks, results, bytes, name);

  const IndexFacts facts = index_facts(results, options);
  if (close_gaps(bounds, results, data) == 0) throw DataError(name, 0, 0, "no data rows");
  check_index_range(facts, results, bytes, name);
  if (options.base == IndexBase::kAuto && facts.one_based) shift_down(data.index);
  data.cols = data.index.empty() ? 0 : facts.max_index + (facts.one_based ? 0 : 1);
  data.source = name;
  return data;
}

Dataset parse_buffer_selected(
    const char* bytes, std::size_t size, const std::string& name, const ParseOptions& options,
    const std::function<std::vector<bool>(std::span<const double>, std::int64_t)>& select) {
  const std::vector<Chunk> chunks =
      split(bytes, size, options.chunk_bytes > 0 ? options.chunk_bytes : kAutoChunkBytes);
  // First pass: every line parsed and checked; the labels and row sizes kept.
  std::vector<ChunkResult> results(chunks.size());
  std::vector<std::vector<double>> labels(chunks.size());
  std::vector<std::vector<std::int64_t>> sizes(chunks.size());
  tbb::parallel_for(std::size_t{0}, chunks.size(), [&](std::size_t i) {
    ScratchChunk scratch(chunks[i], options.base);
    const ChunkResult& r = scratch.result;
    labels[i].assign(scratch.label.begin(), scratch.label.begin() + static_cast<long>(r.rows));
    sizes[i].resize(r.rows);
    for (std::size_t k = 0; k < r.rows; ++k)
      sizes[i][k] = scratch.row_end[k] - (k == 0 ? 0 : scratch.row_end[k - 1]);
    results[i] = scratch.result;
  });
  throw_first_error(chunks, results, bytes, name);
  const IndexFacts facts = index_facts(results, options);
  std::int64_t rows = 0, entries = 0;
  for (const ChunkResult& r : results) {
    rows += static_cast<std::int64_t>(r.rows);
    entries += static_cast<std::int64_t>(r.entries);
  }
  if (rows == 0) throw DataError(name, 0, 0, "no data rows");
  check_index_range(facts, results, bytes, name);

  Dataset data;
  data.label.reserve(static_cast<std::size_t>(rows));
  std::vector<std::size_t> first_row(chunks.size() + 1, 0);
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    first_row[i + 1] = first_row[i] + results[i].rows;
    data.label.insert(data.label.end(), labels[i].begin(), labels[i].end());
    std::vector<double>().swap(labels[i]);
  }
  const std::vector<bool> keep = select(data.label, entries);
  if (static_cast<std::int64_t>(keep.size()) != rows)
    throw std::logic_error("select_rows marked " + std::to_string(keep.size()) + " of " +
                           std::to_string(rows) + " rows");
  data.row_ptr.reserve(static_cast<std::size_t>(rows) + 1);
  for (std::size_t i = 0; i < chunks.size(); ++i)
    for (std::size_t k = 0; k < results[i].rows; ++k)
      data.row_ptr.push_back(data.row_ptr.back() + (keep[first_row[i] + k] ? sizes[i][k] : 0));
  data.index.resize(static_cast<std::size_t>(data.row_ptr.back()));
  data.value.resize(static_cast<std::size_t>(data.row_ptr.back()));
  // Second pass: the chunks holding selected rows again, their rows copied into place.
  tbb::parallel_for(std::size_t{0}, chunks.size(), [&](std::size_t i) {
    const auto first = static_cast<std::size_t>(first_row[i]);
    if (data.row_ptr[first_row[i + 1]] == data.row_ptr[first]) return;  // none kept here
    ScratchChunk scratch(chunks[i], options.base);
    for (std::size_t k = 0; k < results[i].rows; ++k) {
      if (!keep[first + k]) continue;
      const auto from = static_cast<std::size_t>(k == 0 ? 0 : scratch.row_end[k - 1]);
      const auto to = static_cast<std::size_t>(data.row_ptr[first + k]);
      const auto n = static_cast<std::size_t>(sizes[i][k]);
      std::copy_n(scratch.index.begin() + static_cast<long>(from), n,
                  data.index.begin() + static_cast<long>(to));
      std::copy_n(scratch.value.begin() + static_cast<long>(from), n,
                  data.value.begin() + static_cast<long>(to));
    }
  });
  if (options.base == IndexBase::kAuto && facts.one_based) shift_down(data.index);
  data.cols = entries == 0 ? 0 : facts.max_index + (facts.one_based ? 0 : 1);
  data.source = name;
  data.selected_from_entries = entries;
  return data;
}

}  // namespace localsgd::libsvm
