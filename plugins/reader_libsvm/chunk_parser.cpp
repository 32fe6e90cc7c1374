// The libsvm line parser. Well-formed tokens take a fast path that reads each byte once
// (numbers.hpp); anything unusual drops to a slow path that either accepts the token
// (qid, exponents, underflow, leading zeros) or names the exact problem, so the fast path
// only has to be right about what it accepts.
#include "chunk_parser.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "numbers.hpp"

namespace localsgd::libsvm {
namespace {

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

// `token` quoted for an error message, shortened so the message stays one short line.
std::string quote(std::string_view token) {
  constexpr std::size_t kMaxShown = 40;
  if (token.size() <= kMaxShown) return "'" + std::string(token) + "'";
  return "'" + std::string(token.substr(0, kMaxShown)) + "...'";
}

// Thrown by the slow paths, caught in parse_chunk(): the error leaves the chunk as data.
struct Failure {
  const char* at;
  std::string message;
};

class Parser {
 public:
  Parser(const char* begin, const char* end, IndexBase base, const ChunkOutput& out)
      : p_(begin), end_(end), base_(base), shift_(base == IndexBase::kOne ? 1 : 0), to_(out) {}

  ChunkResult parse() {
    try {
      while (p_ < end_) parse_line();
    } catch (Failure& failure) {
      out_.error = ChunkError{line_, 1 + (failure.at - line_start_), std::move(failure.message)};
    }
    return std::move(out_);
  }

 private:
  void parse_line() {
    line_start_ = p_;
    ++line_;
    const char* p = skip_space(p_);
    if (class_of(*p) != kStop) {  // else a blank or comment-only line
      p = parse_label(p);
      std::int64_t previous = -1;  // last index of this row, as written in the file
      for (bool first = true;; first = false) {
        p = skip_space(p);
        if (class_of(*p) == kStop) break;
        p = parse_feature(p, first, previous);
      }
      if (previous > out_.max_index) {  // ascending: the row's last index is its largest
        out_.max_index = previous;
        out_.max_index_line = line_start_;
      }
      to_.row_end[out_.rows++] = to_.first_entry + static_cast<std::int64_t>(out_.entries);
    }
    p_ = next_line(p);
  }

  static const char* skip_space(const char* p) {
    while (class_of(*p) == kSpace) ++p;
    return p;
  }

  // Start of the line after the one containing `p`: the chunk ends in '\n', so there is one.
  const char* next_line(const char* p) const {
    if (*p == '\n') return p + 1;
    return static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end_ - p))) + 1;
  }

  const char* parse_label(const char* p) {
    double label = 0;
    const char* next = parse_decimal(p, label);
    if (next == nullptr || !ends_token(*next)) {
      const auto [end, ec] = parse_real(p, end_, label);
      next = end;
      if (ec != std::errc() || !ends_token(*next) || !std::isfinite(label)) {
        next = check_label(p, label);
      }
    }
    to_.label[out_.rows] = label;
    return next;
  }

  const char* parse_feature(const char* p, bool first, std::int64_t& previous) {
    std::int64_t index = 0;
    if (const char* colon = parse_index(p, index);
        colon != nullptr && index > previous && (index != 0 || base_ != IndexBase::kOne)) {
      double value = 0;
      const char* next = parse_decimal(colon + 1, value);
      if (next == nullptr || !ends_token(*next)) {  // e.g. an exponent: let from_chars decide
        const auto [end, ec] = parse_real(colon + 1, end_, value);
        next = ec == std::errc() && std::isfinite(value) ? end : colon;
      }
      if (ends_token(*next)) {
        store(index, value);
        previous = index;
        return next;
      }
    }
    return check_feature(p, first, previous);
  }

  void store(std::int64_t index, double value) {
    to_.index[out_.entries] = static_cast<std::int32_t>(index - shift_);
    to_.value[out_.entries++] = value;
    if (index == 0) out_.saw_zero = true;
  }

  // Slow path for a label the fast paths refused: throws with the reason, or sets `label`
  // and returns the end of the token (underflow, or should the fast paths be too strict).
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
  // paths refused, or throws naming the problem.
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
    if (ec == std::errc::result_out_of_range ||
        (ec == std::errc() && index > static_cast<std::uint64_t>(kMaxIndex))) {
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

  [[noreturn]] static void fail(const char* at, std::string message) {
    throw Failure{at, std::move(message)};
  }

  const char* p_;    // start of the next line
  const char* end_;  // end of the chunk; end_[-1] == '\n'
  const char* line_start_ = nullptr;
  std::int64_t line_ = 0;  // 1-based number of the current line within the chunk
  IndexBase base_;
  std::int64_t shift_;  // subtracted from every index as stored: 1 for 1-based files
  ChunkOutput to_;
  ChunkResult out_;
};

}  // namespace

ChunkBounds bound_chunk(const char* begin, const char* end) {
  // A row needs a line that starts with neither '\n' nor '#'. An entry needs a ':' and at
  // least 4 bytes of its own ("1:1" and a separator), which bounds a comment full of colons.
  ChunkBounds bounds;
  std::size_t colons = 0;
  if (begin < end) {
    bounds.rows = *begin != '\n' && *begin != '#';
    colons = *begin == ':';
  }
  for (const char* p = begin + 1; p < end; ++p) {
    bounds.rows += p[-1] == '\n' && *p != '\n' && *p != '#';
    colons += *p == ':';
  }
  bounds.entries = std::min(colons, static_cast<std::size_t>(end - begin) / 4);
  return bounds;
}

ChunkResult parse_chunk(const char* begin, const char* end, IndexBase base,
                        const ChunkOutput& out) {
  return Parser(begin, end, base, out).parse();
}

}  // namespace localsgd::libsvm
