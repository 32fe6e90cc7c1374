#include "localsgd/core/data/data_writers.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>

#include "localsgd/core/io/atomic_file.hpp"
#include "localsgd/core/data/binary_format.hpp"
#include "localsgd/core/errors.hpp"
#include "localsgd/core/data/loading.hpp"

namespace localsgd::core {
namespace {

// Text is built in a buffer and handed to the stream in large pieces: one ostream call
// per number would cost more than formatting the number.
class TextBuffer {
 public:
  explicit TextBuffer(std::ostream& out) : out_(out) { text_.reserve(kFlushAt + 64); }
  ~TextBuffer() { flush(); }
  TextBuffer(const TextBuffer&) = delete;
  TextBuffer& operator=(const TextBuffer&) = delete;

  void number(double value) {
    char buffer[32];
    text_.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, value).ptr);
  }
  void integer(std::int64_t value) {
    char buffer[24];
    text_.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, value).ptr);
  }
  void text(std::string_view s) { text_.append(s); }
  void put(char c) { text_.push_back(c); }
  // Call at line ends: flushes once the buffer is large.
  void end_line() {
    text_.push_back('\n');
    if (text_.size() >= kFlushAt) flush();
  }

 private:
  static constexpr std::size_t kFlushAt = std::size_t{1} << 20;
  void flush() {
    out_.write(text_.data(), static_cast<std::streamsize>(text_.size()));
    text_.clear();
  }

  std::ostream& out_;
  std::string text_;
};

bool has_compressed_suffix(const std::filesystem::path& path) {
  const std::string ext = path.extension().string();
  return std::find(kCompressedSuffixes.begin(), kCompressedSuffixes.end(), ext) !=
         kCompressedSuffixes.end();
}

}  // namespace

const char* to_string(DataFormat format) {
  switch (format) {
    case DataFormat::libsvm: return "libsvm";
    case DataFormat::csv: return "csv";
    case DataFormat::bin: return "bin";
  }
  return "unknown";
}

DataFormat parse_data_format(const std::string& name) {
  if (name == "libsvm") return DataFormat::libsvm;
  if (name == "csv") return DataFormat::csv;
  if (name == "bin") return DataFormat::bin;
  throw UsageError("--to " + name + ": expected libsvm, csv or bin");
}

// By extension(), not the whole name: a file named just ".csv" has none and is libsvm.
DataFormat data_format_for(const std::filesystem::path& path) {
  return parse_data_format(format_for_suffix(path.extension().string()));
}

void write_libsvm(std::ostream& out, const DataView& data) {
  TextBuffer text(out);
  for (std::int64_t i = 0; i < data.rows(); ++i) {
    text.number(data.label[static_cast<std::size_t>(i)]);
    const SparseRow row = data.row(i);
    for (std::int64_t j = 0; j < row.size; ++j) {
      text.put(' ');
      text.integer(std::int64_t{row.index[j]} + 1);
      text.put(':');
      text.number(row.value[j]);
    }
    text.end_line();
  }
}

void write_csv(std::ostream& out, const DataView& data) {
  TextBuffer text(out);
  text.text("label");
  for (std::int64_t j = 1; j <= data.cols; ++j) {
    text.text(",f");
    text.integer(j);
  }
  text.end_line();
  for (std::int64_t i = 0; i < data.rows(); ++i) {
    text.number(data.label[static_cast<std::size_t>(i)]);
    const SparseRow row = data.row(i);
    std::int64_t next = 0;  // next stored entry of the row
    for (std::int64_t j = 0; j < data.cols; ++j) {
      text.put(',');
      if (next < row.size && row.index[next] == j) {
        text.number(row.value[next++]);
      } else {
        text.put('0');
      }
    }
    text.end_line();
  }
}

void write_data_file(const std::filesystem::path& path, const Dataset& data, DataFormat format) {
  if (has_compressed_suffix(path))
    throw UsageError("cannot write " + path.string() +
                     ": compressed output is not supported; drop the " + path.extension().string() +
                     " suffix");
  write_file_atomically(path, [&](std::ostream& out) {
    switch (format) {
      case DataFormat::libsvm: write_libsvm(out, data.view()); break;
      case DataFormat::csv: write_csv(out, data.view()); break;
      case DataFormat::bin: binary::write_binary(out, data.view()); break;
    }
  });
}

}  // namespace localsgd::core
