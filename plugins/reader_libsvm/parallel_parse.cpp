#include "parallel_parse.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <localsgd/errors.hpp>

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

// Concatenates the chunks' arrays into `data`, subtracting `shift` from every index.
void concatenate(std::vector<ChunkResult>& results, std::int64_t shift, Dataset& data) {
  if (results.size() == 1 && shift == 0) {
    ChunkResult& only = results.front();
    data.row_ptr = std::move(only.row_ptr);
    data.index = std::move(only.index);
    data.value = std::move(only.value);
    data.label = std::move(only.label);
    return;
  }
  std::vector<std::size_t> row_offset(results.size() + 1, 0), entry_offset(results.size() + 1, 0);
  for (std::size_t i = 0; i < results.size(); ++i) {
    row_offset[i + 1] = row_offset[i] + results[i].label.size();
    entry_offset[i + 1] = entry_offset[i] + results[i].index.size();
  }
  data.row_ptr.resize(row_offset.back() + 1);
  data.label.resize(row_offset.back());
  data.index.resize(entry_offset.back());
  data.value.resize(entry_offset.back());
  tbb::parallel_for(std::size_t{0}, results.size(), [&](std::size_t i) {
    ChunkResult& r = results[i];
    const auto base = static_cast<std::int64_t>(entry_offset[i]);
    std::copy(r.label.begin(), r.label.end(), data.label.begin() + std::ptrdiff_t(row_offset[i]));
    for (std::size_t row = 1; row < r.row_ptr.size(); ++row) {
      data.row_ptr[row_offset[i] + row] = base + r.row_ptr[row];
    }
    std::copy(r.value.begin(), r.value.end(), data.value.begin() + base);
    std::int32_t* index = data.index.data() + base;
    for (const std::int32_t j : r.index) *index++ = static_cast<std::int32_t>(j - shift);
    r = ChunkResult{};  // free the chunk's memory as soon as it is copied
  });
}

}  // namespace

Dataset parse_buffer(const char* bytes, std::size_t size, const std::string& name,
                     const ParseOptions& options) {
  const std::vector<Chunk> chunks = split(bytes, size, chunk_size_for(size, options));
  std::vector<ChunkResult> results(chunks.size());
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, chunks.size(), 1),
                    [&](const tbb::blocked_range<std::size_t>& range) {
                      for (std::size_t i = range.begin(); i != range.end(); ++i) {
                        results[i] = parse_chunk(chunks[i].begin, chunks[i].end, options.base);
                      }
                    });
  throw_first_error(chunks, results, bytes, name);

  std::int64_t max_index = -1;
  bool saw_zero = false;
  std::size_t rows = 0;
  for (const ChunkResult& r : results) {
    max_index = std::max(max_index, r.max_index);
    saw_zero = saw_zero || r.saw_zero;
    rows += r.label.size();
  }
  if (rows == 0) throw DataError(name, 0, 0, "no data rows");

  // zero_based=auto is decided on the whole file: 1-based unless some index is 0. The
  // chunks stored such indices as written, so they are shifted while concatenating.
  const bool one_based =
      options.base == IndexBase::kOne || (options.base == IndexBase::kAuto && !saw_zero);
  const std::int64_t shift = options.base == IndexBase::kAuto && one_based ? 1 : 0;

  Dataset data;
  concatenate(results, shift, data);
  data.cols = data.index.empty() ? 0 : max_index + (one_based ? 0 : 1);
  data.source = name;
  return data;
}

}  // namespace localsgd::libsvm
