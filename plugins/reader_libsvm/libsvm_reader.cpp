// Reader for the LIBSVM / svmlight text format, as real files write it:
//
//   <label> [qid:<n>] <index>:<value> <index>:<value> ...   # optional comment
//
// Labels are any finite real ("+1", "-1.0", "3", "1e0"); indices are strictly ascending
// integers (1-based unless zero_based says otherwise); explicit zeros are kept as stored
// entries; a row may hold a label only. Blank and comment-only lines are skipped, CRLF
// and tabs are fine, and so is a missing final newline. A qid (svmlight's ranking group)
// is accepted and ignored, because training here treats every row as an independent
// sample.
//
// Speed: the file is read with one big read into a buffer that ends with a '\n'
// sentinel, then parsed in place with std::from_chars: no per-token allocation, and a
// fast path that handles well-formed tokens without looking at them twice. Anything
// unusual drops to a slow path that either accepts the token (qid) or names the exact
// problem, so the fast path only has to be right about what it accepts.
#include <localsgd/sdk.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace {

using localsgd::DataError;

enum class IndexBase { kOne, kZero, kAuto };

constexpr std::int64_t kMaxIndex = std::numeric_limits<std::int32_t>::max();

// ---------------------------------------------------------------------------------------
// Reading the file

// The whole file, followed by one '\n' sentinel: every line, including an unterminated
// last one, then ends in a newline, and number parsing always stops inside the buffer.
struct FileBuffer {
  std::unique_ptr<char[]> bytes;
  std::size_t size = 0;  // file bytes, sentinel excluded
};

FileBuffer read_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw DataError(path, 0, 0, "is a directory, expected a data file");
  }
  std::FILE* raw = std::fopen(path.c_str(), "rb");
  if (raw == nullptr) {
    throw DataError(path, 0, 0, std::string("cannot open: ") + std::strerror(errno));
  }
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(raw, &std::fclose);

  // The size is only a hint (it is unknown for pipes): read until EOF, growing as needed.
  // Capacity exceeds the hint by one so a regular file is read in one call that sees EOF.
  const std::uintmax_t hint = std::filesystem::file_size(path, ec);
  std::size_t capacity = (ec ? std::size_t{1} << 20 : static_cast<std::size_t>(hint)) + 1;
  FileBuffer buffer{std::make_unique_for_overwrite<char[]>(capacity + 1), 0};
  for (;;) {
    buffer.size += std::fread(buffer.bytes.get() + buffer.size, 1, capacity - buffer.size, raw);
    if (buffer.size < capacity) break;
    capacity *= 2;
    auto bigger = std::make_unique_for_overwrite<char[]>(capacity + 1);
    std::memcpy(bigger.get(), buffer.bytes.get(), buffer.size);
    buffer.bytes = std::move(bigger);
  }
  if (std::ferror(raw)) {
    throw DataError(path, 0, 0, std::string("read error: ") + std::strerror(errno));
  }
  buffer.bytes[buffer.size] = '\n';
  return buffer;
}

// ---------------------------------------------------------------------------------------
// Character classes

enum CharClass : std::uint8_t {
  kToken = 0,  // part of a label, index or value
  kSpace,      // separates tokens: ' ', '\t', '\r' (CRLF files), '\v', '\f'
  kStop,       // ends the tokens of a line: '\n' or '#' (comment)
  kBad,        // never valid in a token: other control bytes, DEL, non-ASCII
};

constexpr std::array<CharClass, 256> make_classes() {
  std::array<CharClass, 256> table{};
  for (int c = 0; c < 256; ++c) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f') {
      table[c] = kSpace;
    } else if (c == '\n' || c == '#') {
      table[c] = kStop;
    } else if (c < 0x20 || c >= 0x7f) {
      table[c] = kBad;
    } else {
      table[c] = kToken;
    }
  }
  return table;
}
constexpr std::array<CharClass, 256> kClasses = make_classes();

inline CharClass class_of(char c) {
  return kClasses[static_cast<unsigned char>(c)];
}
// True where a number may end: at whitespace, end of line or a comment.
inline bool ends_token(char c) {
  return class_of(c) == kSpace || class_of(c) == kStop;
}

// '+' is valid in svmlight labels ("+1") but std::from_chars rejects it, so skip it here
// (only when a digit or '.' follows: "+-1" and "+nan" must stay errors).
inline std::from_chars_result parse_real(const char* first, const char* last, double& out) {
  if (*first == '+' && (std::isdigit(static_cast<unsigned char>(first[1])) || first[1] == '.')) {
    ++first;
  }
  return std::from_chars(first, last, out);
}

// Parses all of [first, last) as a real, for the slow paths. std::from_chars reports
// underflow ("1e-400") as out of range, like overflow; strtod, and so LIBSVM and
// scikit-learn, read it as zero, so it is zero here too. Returns invalid_argument when
// the text is not entirely a number, result_out_of_range on overflow.
std::errc parse_whole_real(const char* first, const char* last, double& out) {
  const auto [next, ec] = parse_real(first, last, out);
  if (next != last || (ec != std::errc() && ec != std::errc::result_out_of_range)) {
    return std::errc::invalid_argument;
  }
  if (ec == std::errc::result_out_of_range) {
    const std::string_view number(first, static_cast<std::size_t>(last - first));
    const std::size_t e = number.find_first_of("eE");
    if (e == std::string_view::npos || number[e + 1] != '-') return ec;
    out = number.front() == '-' ? -0.0 : 0.0;
  }
  return std::errc();
}

// `token` quoted for an error message, shortened so the message stays one short line.
std::string quote(std::string_view token) {
  constexpr std::size_t kMaxShown = 40;
  if (token.size() <= kMaxShown) return "'" + std::string(token) + "'";
  return "'" + std::string(token.substr(0, kMaxShown)) + "...'";
}

// ---------------------------------------------------------------------------------------
// Parsing

class Parser {
 public:
  Parser(const std::string& path, const FileBuffer& buffer, IndexBase base)
      : path_(path), p_(buffer.bytes.get()), end_(buffer.bytes.get() + buffer.size), base_(base) {}

  localsgd::Dataset parse() {
    reserve();
    while (p_ < end_) parse_line();
    return finish();
  }

 private:
  // Tight upper bounds (a row per newline, at most one entry per ':') cost two fast,
  // vectorised passes and spare every reallocation and copy of the large arrays.
  void reserve() {
    const auto lines = static_cast<std::size_t>(std::count(p_, end_, '\n')) + 1;
    const auto colons = static_cast<std::size_t>(std::count(p_, end_, ':'));
    data_.row_ptr.reserve(lines + 1);
    data_.label.reserve(lines);
    data_.index.reserve(colons);
    data_.value.reserve(colons);
  }

  void parse_line() {
    line_start_ = p_;
    ++line_;
    const char* p = skip_space(p_);
    if (*p == '\n' || *p == '#') {  // blank or comment-only line
      p_ = next_line(p);
      return;
    }
    p = parse_label(p);
    std::int64_t previous = -1;  // last index of this row, as written in the file
    for (bool first = true;; first = false) {
      p = skip_space(p);
      if (class_of(*p) == kStop) break;
      p = parse_feature(p, first, previous);
    }
    if (previous > max_index_) max_index_ = previous;  // rows are ascending: last is largest
    data_.row_ptr.push_back(static_cast<std::int64_t>(data_.index.size()));
    p_ = next_line(p);
  }

  static const char* skip_space(const char* p) {
    while (class_of(*p) == kSpace) ++p;
    return p;
  }

  // Start of the line after the one containing `p` (may be one past end_).
  const char* next_line(const char* p) const {
    return static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end_ + 1 - p))) +
           1;
  }

  const char* parse_label(const char* p) {
    double label = 0;
    auto [next, ec] = parse_real(p, end_, label);
    if (ec != std::errc() || !ends_token(*next) || !std::isfinite(label)) {
      next = check_label(p, label);
    }
    data_.label.push_back(label);
    return next;
  }

  const char* parse_feature(const char* p, bool first, std::int64_t& previous) {
    // Fast path: a plain "index:value" that is in range and ascending. Unsigned parsing
    // rejects a sign, so "-0:1" goes to the slow path too.
    std::uint64_t raw_index = 0;
    auto [colon, ec] = std::from_chars(p, end_, raw_index);
    if (ec == std::errc() && *colon == ':' && raw_index <= static_cast<std::uint64_t>(kMaxIndex)) {
      const auto index = static_cast<std::int64_t>(raw_index);
      double value = 0;
      auto [next, value_ec] = parse_real(colon + 1, end_, value);
      if (value_ec == std::errc() && ends_token(*next) && std::isfinite(value) &&
          index > previous && (index != 0 || base_ != IndexBase::kOne)) {
        store(index, value);
        previous = index;
        return next;
      }
    }
    return check_feature(p, first, previous);
  }

  void store(std::int64_t index, double value) {
    data_.index.push_back(static_cast<std::int32_t>(index));
    data_.value.push_back(value);
    if (index == 0) saw_zero_ = true;
  }

  // Slow path for a label the fast path refused: throws with the reason, or sets `label`
  // and returns the end of the token (underflow, or should the fast path be too strict).
  const char* check_label(const char* p, double& label) {
    const std::string_view token = token_at(p);
    const char* token_end = token.data() + token.size();
    const std::errc ec = parse_whole_real(p, token_end, label);
    if (ec == std::errc::invalid_argument) {
      if (token.find(':') != std::string_view::npos) {
        fail(p, "expected a label before the features, got " + quote(token));
      }
      fail(p, "invalid label " + quote(token));
    }
    if (ec == std::errc::result_out_of_range) fail(p, "label out of range: " + quote(token));
    if (!std::isfinite(label)) fail(p, "label is not finite: " + quote(token));
    return token_end;
  }

  // Slow path for a feature token: accepts a leading qid, stores a valid entry the fast
  // path refused, or throws naming the problem.
  const char* check_feature(const char* p, bool first, std::int64_t& previous) {
    const std::string_view token = token_at(p);
    const char* token_end = token.data() + token.size();
    const std::size_t colon = token.find(':');
    if (colon == std::string_view::npos) {
      fail(p, "expected 'index:value', got " + quote(token));
    }
    if (first && token.starts_with("qid:")) {
      check_qid(p, token);
      return token_end;
    }
    const std::int64_t index = check_index(p, token, colon);
    double value = 0;
    const std::errc ec = parse_whole_real(p + colon + 1, token_end, value);
    if (ec == std::errc::invalid_argument) fail(p, "invalid value in " + quote(token));
    if (ec == std::errc::result_out_of_range) fail(p, "value out of range in " + quote(token));
    if (!std::isfinite(value)) fail(p, "value is not finite in " + quote(token));
    if (index == previous) fail(p, "duplicate index in " + quote(token));
    if (index < previous) {
      fail(p, "index not ascending in " + quote(token) + " (previous index " +
                  std::to_string(previous) + ")");
    }
    store(index, value);
    previous = index;
    return token_end;
  }

  std::int64_t check_index(const char* p, std::string_view token, std::size_t colon) {
    if (token.front() == '-') fail(p, "negative index in " + quote(token));
    std::uint64_t index = 0;
    auto [next, ec] = std::from_chars(p, p + colon, index);
    if (ec == std::errc::result_out_of_range || (ec == std::errc() && index > kMaxIndex)) {
      fail(p, "index too large in " + quote(token) + " (max " + std::to_string(kMaxIndex) + ")");
    }
    if (ec != std::errc() || next != p + colon) fail(p, "invalid index in " + quote(token));
    if (index == 0 && base_ == IndexBase::kOne) {
      fail(p, "index 0 but indices are 1-based (set zero_based=true or auto)");
    }
    return static_cast<std::int64_t>(index);
  }

  void check_qid(const char* p, std::string_view token) {
    std::int64_t qid = 0;
    const char* last = token.data() + token.size();
    auto [next, ec] = std::from_chars(p + 4, last, qid);
    if (ec != std::errc() || next != last) fail(p, "invalid qid in " + quote(token));
  }

  // The token starting at `p`, up to whitespace, newline or '#'. Fails at the first byte
  // that cannot be part of any token (NUL, other control bytes, non-ASCII): such input is
  // most likely a binary or compressed file.
  std::string_view token_at(const char* p) const {
    const char* q = p;
    for (; !ends_token(*q); ++q) {
      if (class_of(*q) == kBad) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x",
                      static_cast<unsigned>(static_cast<unsigned char>(*q)));
        fail(q, std::string("unexpected byte ") + hex + " (binary file?)");
      }
    }
    return {p, static_cast<std::size_t>(q - p)};
  }

  [[noreturn]] void fail(const char* at, const std::string& message) const {
    throw DataError(path_, line_, 1 + (at - line_start_), message);
  }

  localsgd::Dataset finish() {
    if (data_.label.empty()) throw DataError(path_, 0, 0, "no data rows");
    const bool one_based = base_ == IndexBase::kOne || (base_ == IndexBase::kAuto && !saw_zero_);
    if (one_based) {
      for (std::int32_t& index : data_.index) --index;
    }
    data_.cols = data_.index.empty() ? 0 : max_index_ + (one_based ? 0 : 1);
    data_.source = path_;
    return std::move(data_);
  }

  const std::string& path_;
  const char* p_;    // start of the next line
  const char* end_;  // end of the file; *end_ is the '\n' sentinel
  const char* line_start_ = nullptr;
  std::int64_t line_ = 0;  // 1-based number of the current line
  IndexBase base_;
  std::int64_t max_index_ = -1;  // largest index as written
  bool saw_zero_ = false;
  localsgd::Dataset data_;
};

// ---------------------------------------------------------------------------------------
// The plugin

IndexBase parse_index_base(const localsgd::ParamMap& params) {
  if (params.text("zero_based", "false") == "auto") return IndexBase::kAuto;
  try {
    return params.boolean("zero_based", false) ? IndexBase::kZero : IndexBase::kOne;
  } catch (const localsgd::ParamError&) {
    throw localsgd::ParamError("parameter zero_based=" + params.text("zero_based", "") +
                               ": expected true, false or auto");
  }
}

class LibsvmReader final : public localsgd::Reader {
 public:
  explicit LibsvmReader(const localsgd::ParamMap& params) : base_(parse_index_base(params)) {}

  localsgd::Dataset read(const localsgd::ReadRequest& request) const override {
    if (request.path.empty()) {
      throw DataError("", 0, 0, "libsvm reader needs a file (--data FILE)");
    }
    const FileBuffer buffer = read_file(request.path);
    return Parser(request.path, buffer, base_).parse();
  }

 private:
  IndexBase base_;
};

constexpr localsgd::ParamDoc kParams[] = {
    {"zero_based", "false",
     "false: indices start at 1 (LIBSVM), index 0 is an error; true: they start at 0; "
     "auto: 0-based if any index 0 appears (as scikit-learn)"},
};

const localsgd::Manifest kManifest = localsgd::reader_manifest<LibsvmReader>(
    "libsvm", "1.0.0",
    "LIBSVM/svmlight text: 'label idx:val ...' rows, '#' comments, qid:N accepted and ignored",
    kParams);

}  // namespace

LOCALSGD_PLUGIN(kManifest)
