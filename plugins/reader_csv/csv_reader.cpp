// Reader for dense numeric CSV: one sample per line, one label column, the other
// columns features.
//
//   label,age,income          <- optional header (auto-detected)
//   1,37,52000.5
//   -1,51,0                   <- zeros are not stored: the CSR matrix is sparse
//
// Parameters: `header` auto|true|false (auto: the first line is a header when any of its
// fields is not a number), `label` a column name (needs a header) or a 0-based index
// [0], `delimiter` `,` `;` `|` or `tab` [`,`]. Feature j is the j-th non-label column, so
// cols = fields - 1. Fields may be quoted ("a,b" is one field, "" an escaped quote) and
// padded with spaces; CRLF, a UTF-8 byte-order mark, blank lines and a missing final
// newline are fine; "-" reads standard input. Every row must have as many fields as the
// first; empty fields (missing values), NaN and infinities are errors, reported as
// file:line:column. A gzip/xz/bzip2 file is refused as such (decompress it first).
//
// Speed: the file is mapped (or read in one call) with a '\n' sentinel after its end and
// parsed in place; a plain number followed by a delimiter takes a fast path of one from_chars
// call. Quotes, spaces and errors go through a slow path that finds the exact problem.
// A read that selects rows (ReadRequest::select_rows, an MPI rank's rows) parses the file
// twice: every line checked and the labels kept, then the selected rows' features.
#include <localsgd/readers/compression.hpp>
#include <localsgd/readers/numbers.hpp>
#include <localsgd/readers/plain_input.hpp>
#include <localsgd/sdk.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

namespace readers = localsgd::readers;
using localsgd::DataError;
using localsgd::ParamError;
using readers::Compression;
using readers::InputBuffer;

// ---------------------------------------------------------------------------------------
// Parameters

enum class HeaderMode { kAuto, kYes, kNo };

struct Options {
  HeaderMode header = HeaderMode::kAuto;
  std::optional<std::size_t> label_index;  // set when `label` is a number
  std::string label_name;                  // set otherwise
  char delimiter = ',';
};

Options parse_options(const localsgd::ParamMap& params) {
  Options o;
  const std::string header = params.text("header", "auto");
  if (header == "auto") {
    o.header = HeaderMode::kAuto;
  } else {
    try {
      o.header = params.boolean("header", false) ? HeaderMode::kYes : HeaderMode::kNo;
    } catch (const ParamError&) {
      throw ParamError("parameter header=" + header + ": expected auto, true or false");
    }
  }

  const std::string label = params.text("label", "0");
  std::size_t index = 0;
  const auto [end, ec] = std::from_chars(label.data(), label.data() + label.size(), index);
  if (ec == std::errc() && end == label.data() + label.size()) {
    o.label_index = index;
  } else if (label.empty() || label.front() == '-') {
    throw ParamError("parameter label=" + label +
                     ": expected a column name or a 0-based column index");
  } else {
    o.label_name = label;
    if (o.header == HeaderMode::kNo)
      throw ParamError("parameter label=" + label +
                       ": a column name needs a header line, but header=false");
  }

  const std::string delimiter = params.text("delimiter", ",");
  if (delimiter == "tab" || delimiter == "\\t" || delimiter == "\t") {
    o.delimiter = '\t';
  } else if (delimiter == "," || delimiter == ";" || delimiter == "|") {
    o.delimiter = delimiter.front();
  } else {
    throw ParamError("parameter delimiter=" + delimiter + ": expected ',', ';', '|' or tab");
  }
  return o;
}

// ---------------------------------------------------------------------------------------
// Reading the file (localsgd/readers: one read or a mapping, a '\n' sentinel after the end)

// A compressed file would otherwise fail as "expected a number, got '\x1f...'".
void refuse_compressed(const InputBuffer& buffer) {
  const Compression c = readers::compression_by_magic({buffer.bytes.get(), buffer.size});
  if (c != Compression::kNone)
    throw DataError(buffer.name, 0, 0,
                    std::string("is ") + readers::compression_name(c) +
                        "-compressed; the csv reader reads plain text: decompress it first");
}

// ---------------------------------------------------------------------------------------
// Fields and numbers

// `text` quoted for a message: at most 40 characters, control bytes escaped.
std::string quote(std::string_view text) {
  constexpr std::size_t kMaxShown = 40;
  std::string out = "'";
  for (const char c : text.substr(0, kMaxShown)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned>(u));
      out += hex;
    } else {
      out += c;
    }
  }
  return out + (text.size() > kMaxShown ? "...'" : "'");
}

// Skips a leading '+' before anything but a sign, as this reader always has. The shared
// parse_real skips it only before a digit or '.'; without this, "+inf" would become
// "expected a number" instead of "not finite", and would make a first line a header.
const char* skip_plus(const char* first, const char* last) {
  return first < last && *first == '+' && first + 1 < last && first[1] != '-' && first[1] != '+'
             ? first + 1
             : first;
}

std::from_chars_result parse_real(const char* first, const char* last, double& out) {
  return readers::parse_real(skip_plus(first, last), last, out);
}

// All of `text` as a real. Underflow ("1e-400") reads as zero, as strtod and the libsvm
// reader read it; overflow and anything that is not wholly a number are errors.
std::errc parse_whole_real(std::string_view text, double& out) {
  const char* last = text.data() + text.size();
  return readers::parse_whole_real(skip_plus(text.data(), last), last, out);
}

// One field as written: where it starts (for error columns), its text without quotes
// and padding, and where it ends (at the delimiter, '\r' or '\n' after it).
struct Field {
  const char* start;
  std::string text;
  const char* end;
};

// ---------------------------------------------------------------------------------------
// Parsing

class Parser {
 public:
  Parser(const InputBuffer& buffer, const Options& options)
      : path_(buffer.name),
        p_(buffer.bytes.get()),
        end_(buffer.bytes.get() + buffer.size),
        options_(options),
        delimiter_(options.delimiter) {
    if (buffer.size >= 3 && std::memcmp(p_, "\xEF\xBB\xBF", 3) == 0) p_ += 3;  // UTF-8 BOM
  }

  // Every row, or with `select` (ReadRequest::select_rows) two passes: the first checks
  // every line and keeps the labels and row sizes, the second keeps the selected rows'
  // features only.
  localsgd::Dataset parse(const localsgd::ReadRequest::RowSelector& select) {
    if (!select) return parse_rows();
    const char* const start = p_;
    counting_ = true;
    const localsgd::Dataset counted = parse_rows();
    const std::vector<bool> keep = select(counted.label, entries_);
    if (keep.size() != counted.label.size())
      throw std::logic_error("select_rows marked " + std::to_string(keep.size()) + " of " +
                             std::to_string(counted.label.size()) + " rows");
    std::size_t kept = 0;
    for (std::size_t i = 0; i < keep.size(); ++i)
      if (keep[i]) kept += static_cast<std::size_t>(counted.row_ptr[i + 1] - counted.row_ptr[i]);
    const std::int64_t entries = entries_;
    p_ = start;
    line_ = 0;
    counting_ = false;
    keep_ = &keep;
    kept_entries_ = kept;
    data_ = {};
    row_ = 0;
    entries_ = 0;
    localsgd::Dataset data = parse_rows();
    data.selected_from_entries = entries;
    return data;
  }

 private:
  localsgd::Dataset parse_rows() {
    if (!next_nonblank_line()) throw DataError(path_, 0, 0, "empty file: no header and no rows");
    const std::vector<Field> first = split_line(line_start_);
    fields_ = first.size();
    has_header_ = decide_header(first);
    label_ = label_column(first);
    reserve();
    if (has_header_) {
      p_ = next_line(first.back().end);
      if (!next_nonblank_line()) throw DataError(path_, 0, 0, "no data rows (only a header line)");
    }
    do {
      parse_row();
    } while (next_nonblank_line());
    data_.cols = static_cast<std::int64_t>(fields_) - 1;
    data_.source = path_;
    return std::move(data_);
  }

  // Moves to the start of the next line holding something other than spaces, tabs and
  // '\r'; sets line_start_ and line_. False at the end of the file.
  bool next_nonblank_line() {
    while (p_ < end_) {
      ++line_;
      line_start_ = p_;
      const char* q = p_;
      while (*q == ' ' || *q == '\t' || *q == '\r') ++q;
      if (*q != '\n') return true;
      p_ = q + 1;
    }
    return false;
  }

  // Start of the line after the one containing `p` (one past end_ after the last line).
  const char* next_line(const char* p) const {
    return static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end_ + 1 - p))) +
           1;
  }

  bool at_line_end(const char* p) const { return *p == '\n' || (*p == '\r' && p[1] == '\n'); }

  // The slow, exact reading of one field starting at `p`: optional spaces, a quoted or a
  // plain field, optional spaces, then a delimiter or the end of the line.
  Field read_field(const char* p) const {
    while (*p == ' ' || (*p == '\t' && delimiter_ != '\t')) ++p;
    Field f{p, {}, p};
    const char* q = p;
    if (*q == '"') {
      for (++q;; ++q) {
        if (*q == '\n') fail(p, "unterminated quote (a field may not span lines)");
        if (*q == '"') {
          if (q[1] != '"') break;
          ++q;  // "" is an escaped quote
        }
        f.text += *q;
      }
      ++q;
      while (*q == ' ' || (*q == '\t' && delimiter_ != '\t')) ++q;
      if (*q != delimiter_ && !at_line_end(q))
        fail(q, "unexpected text after a quoted field: " + quote(std::string_view(q, 1)));
    } else {
      while (*q != delimiter_ && *q != '\n' && !at_line_end(q)) ++q;
      const char* last = q;
      while (last > p && (last[-1] == ' ' || (last[-1] == '\t' && delimiter_ != '\t'))) --last;
      f.text.assign(p, last);
    }
    f.end = q;
    return f;
  }

  std::vector<Field> split_line(const char* p) const {
    std::vector<Field> fields;
    for (;;) {
      fields.push_back(read_field(p));
      const char* end = fields.back().end;
      if (*end != delimiter_) return fields;
      p = end + 1;
    }
  }

  static bool is_number(const std::string& text) {
    double ignored = 0;
    return parse_whole_real(text, ignored) != std::errc::invalid_argument;
  }

  bool decide_header(const std::vector<Field>& first) const {
    switch (options_.header) {
      case HeaderMode::kYes: return true;
      case HeaderMode::kNo: return false;
      case HeaderMode::kAuto: break;
    }
    return std::any_of(first.begin(), first.end(),
                       [](const Field& f) { return !is_number(f.text); });
  }

  std::size_t label_column(const std::vector<Field>& first) const {
    if (options_.label_index) {
      if (*options_.label_index >= first.size())
        throw DataError(path_, line_, 0,
                        "label column " + std::to_string(*options_.label_index) +
                            " does not exist: rows have " + std::to_string(first.size()) +
                            " fields (columns are 0-based)");
      return *options_.label_index;
    }
    const std::string& name = options_.label_name;
    if (!has_header_)
      throw DataError(path_, line_, 0,
                      "label=" + name +
                          " names a column, but the first line is not a header "
                          "(all numbers); give the column's 0-based index or set header=true");
    std::optional<std::size_t> found;
    std::string names;
    for (std::size_t i = 0; i < first.size(); ++i) {
      names += (i ? ", " : "") + first[i].text;
      if (first[i].text != name) continue;
      if (found)
        throw DataError(path_, line_, 1 + (first[i].start - line_start_),
                        "label column " + quote(name) + " appears twice in the header");
      found = i;
    }
    if (!found) {
      if (names.size() > 200) names = names.substr(0, 200) + "...";
      throw DataError(path_, line_, 0,
                      "no column named " + quote(name) + " in the header (columns: " + names + ")");
    }
    return *found;
  }

  // A row per remaining line; every stored value needs at least two bytes ("1,").
  // Counting, only the labels and row ends; keeping selected rows, their entries exactly.
  void reserve() {
    const auto lines = static_cast<std::size_t>(std::count(p_, end_, '\n')) + 1;
    data_.row_ptr.reserve(lines + 1);
    data_.label.reserve(lines);
    if (counting_) return;
    if (keep_ != nullptr) {
      data_.index.reserve(kept_entries_);
      data_.value.reserve(kept_entries_);
      return;
    }
    const std::size_t bound =
        std::min(lines * (fields_ - 1), static_cast<std::size_t>(end_ - p_) / 2 + 1);
    data_.index.reserve(bound);
    data_.value.reserve(bound);
  }

  void parse_row() {
    const char* p = line_start_;
    std::int32_t feature = 0;
    const bool store = !counting_ && (keep_ == nullptr || (*keep_)[row_]);
    std::int64_t stored = 0;
    for (std::size_t f = 0;; ++f) {
      double value = 0;
      const char* next = nullptr;
      // Fast path: a plain number right up to the delimiter or the end of the line.
      const auto [stop, ec] = parse_real(p, end_, value);
      if (ec == std::errc() && (*stop == delimiter_ || at_line_end(stop)) && std::isfinite(value)) {
        next = stop;
      } else {
        next = check_field(p, f == label_, value);
      }
      if (f == label_) {
        data_.label.push_back(value);
      } else {
        if (value != 0.0 && store) {
          data_.index.push_back(feature);
          data_.value.push_back(value);
        }
        if (value != 0.0) ++stored;
        ++feature;
      }
      if (*next != delimiter_) {  // end of the line
        if (f + 1 < fields_) fail(next, count_message(f + 1));
        break;
      }
      if (f + 1 == fields_) fail(next + 1, count_message(fields_ + count_rest(next)));
      p = next + 1;
    }
    entries_ += stored;
    // Counting, row_ptr holds every row's end as if all were kept: the row sizes.
    data_.row_ptr.push_back(counting_ ? entries_ : static_cast<std::int64_t>(data_.index.size()));
    ++row_;
    p_ = next_line(p);
  }

  // The slow path: reads the field at `p` exactly, sets `value` or fails naming the
  // problem; returns the end of the field.
  const char* check_field(const char* p, bool is_label, double& value) const {
    const Field f = read_field(p);
    const char* what = is_label ? "label" : "value";
    if (f.text.empty()) {
      if (*f.start == '"') fail(f.start, std::string("empty ") + what + " \"\"");
      fail(f.start, std::string("empty field where a ") + what +
                        " was expected (missing values are not supported)");
    }
    const std::errc ec = parse_whole_real(f.text, value);
    if (ec == std::errc::invalid_argument)
      fail(f.start, std::string("expected a number, got ") + quote(f.text));
    if (ec == std::errc::result_out_of_range)
      fail(f.start, std::string(what) + " out of range: " + quote(f.text));
    if (!std::isfinite(value))
      fail(f.start, std::string(what) + " is not finite: " + quote(f.text));
    return f.end;
  }

  // How many more fields follow the delimiter at `p` on this line.
  std::size_t count_rest(const char* p) const {
    std::size_t n = 0;
    while (*p == delimiter_) {
      p = read_field(p + 1).end;
      ++n;
    }
    return n;
  }

  std::string count_message(std::size_t fields) const {
    return "row has " + std::to_string(fields) + " field" + (fields == 1 ? "" : "s") + ", " +
           (has_header_ ? "header has " : "the first row has ") + std::to_string(fields_);
  }

  [[noreturn]] void fail(const char* at, const std::string& message) const {
    throw DataError(path_, line_, 1 + (at - line_start_), message);
  }

  const std::string& path_;
  const char* p_;    // start of the next line to look at
  const char* end_;  // end of the file; *end_ is the '\n' sentinel
  const Options& options_;
  const char delimiter_;
  const char* line_start_ = nullptr;
  std::int64_t line_ = 0;  // 1-based number of the current line
  std::size_t fields_ = 0;
  std::size_t label_ = 0;
  bool has_header_ = false;
  localsgd::Dataset data_;
  // A selected read (parse(select)): the first pass counts, the second keeps *keep_'s rows.
  bool counting_ = false;
  const std::vector<bool>* keep_ = nullptr;
  std::size_t kept_entries_ = 0;
  std::size_t row_ = 0;       // rows parsed in this pass
  std::int64_t entries_ = 0;  // nonzero values of the rows parsed in this pass
};

// ---------------------------------------------------------------------------------------
// The plugin

class CsvReader final : public localsgd::Reader {
 public:
  explicit CsvReader(const localsgd::ParamMap& params) : options_(parse_options(params)) {}

  localsgd::Dataset read(const localsgd::ReadRequest& request) const override {
    if (request.path.empty()) throw DataError("", 0, 0, "csv reader needs a file (--data FILE)");
    const InputBuffer buffer = readers::read_plain(request.path);
    refuse_compressed(buffer);
    return Parser(buffer, options_).parse(request.select_rows);
  }

 private:
  Options options_;
};

constexpr localsgd::ParamDoc kParams[] = {
    {"header", "auto",
     "true, false, or auto: the first line is a header when any of its fields is not a number"},
    {"label", "0", "the label column: a name from the header, or a 0-based index"},
    {"delimiter", ",", "field separator: ',', ';', '|' or tab"},
};

const localsgd::Manifest kManifest = localsgd::reader_manifest<CsvReader>(
    "csv", "1.0.0", "dense numeric CSV: a label column and feature columns, zeros not stored",
    kParams);

}  // namespace

LOCALSGD_PLUGIN(kManifest)
