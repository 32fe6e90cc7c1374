// Compressed input is read whole into memory first and decompressed from there: files
// and standard input then share one path, and the parser gets one contiguous buffer.
#include "input.hpp"

#include <algorithm>
#include <string_view>
#include <utility>

#include <boost/iostreams/device/array.hpp>
#include <boost/iostreams/filter/bzip2.hpp>
#include <boost/iostreams/filter/gzip.hpp>
#include <boost/iostreams/filter/lzma.hpp>
#include <boost/iostreams/filtering_streambuf.hpp>
#include <localsgd/errors.hpp>
#include <localsgd/readers/compression.hpp>
#include <localsgd/readers/plain_input.hpp>

namespace localsgd::libsvm {
namespace {

using readers::ByteBuffer;
using readers::Compression;
using readers::compression_name;

Compression compression_by_suffix(std::string_view path) {
  if (path.ends_with(".gz")) return Compression::kGzip;
  if (path.ends_with(".xz")) return Compression::kXz;
  if (path.ends_with(".bz2")) return Compression::kBzip2;
  return Compression::kNone;
}

// What went wrong in a compressed stream, in words, from the Boost.Iostreams exception.
std::string describe(Compression c, const std::exception& error) {
  namespace io = boost::iostreams;
  const std::string format = compression_name(c);
  const std::string corrupt = "corrupt or truncated " + format + " data";
  if (const auto* e = dynamic_cast<const io::gzip_error*>(&error)) {
    if (e->error() == io::gzip::bad_header) return "not " + format + " data (bad header)";
    if (e->error() == io::gzip::bad_crc) return corrupt + " (CRC mismatch)";
    if (e->error() == io::gzip::bad_length) return corrupt + " (length mismatch)";
    return corrupt;
  }
  if (const auto* e = dynamic_cast<const io::lzma_error*>(&error)) {
    if (e->error() == io::lzma::data_error) return corrupt;
    if (e->error() == io::lzma::buf_error) return corrupt + " (unexpected end)";
    if (e->error() == io::lzma::mem_error) return format + " data needs too much memory";
    if (e->error() == io::lzma::options_error) return "unsupported " + format + " options";
    return "not " + format + " data (bad header)";
  }
  if (const auto* e = dynamic_cast<const io::bzip2_error*>(&error)) {
    if (e->error() == io::bzip2::data_error_magic) return "not " + format + " data (bad header)";
    if (e->error() == io::bzip2::unexpected_eof) return corrupt + " (unexpected end)";
    return corrupt;
  }
  return corrupt + ": " + error.what();
}

// Whether `data` starts as a `c` stream does. compression_by_magic also wants bzip2's first
// block magic, which an empty bzip2 stream lacks: here "BZh" and the block size suffice. The
// decompressors' own verdict on another file varies: liblzma calls garbage corrupt data,
// not a bad header.
bool has_header(Compression c, std::string_view data) {
  if (c == Compression::kBzip2)
    return data.size() >= 4 && data.starts_with("BZh") && data[3] >= '1' && data[3] <= '9';
  return readers::compression_by_magic(data) == c;
}

ByteBuffer decompress(Compression c, std::string_view compressed, const std::string& name) {
  namespace io = boost::iostreams;
  constexpr std::streamsize kBlock = 1 << 16;
  // A guess at the text size (these formats shrink libsvm text 4 to 10 times); the
  // buffer doubles when it is wrong.
  if (compressed.empty())
    throw DataError(name, 0, 0,
                    "empty file, expected " + std::string(compression_name(c)) + " data");
  if (!has_header(c, compressed))
    throw DataError(name, 0, 0, "not " + std::string(compression_name(c)) + " data (bad header)");
  ByteBuffer text(std::max<std::size_t>(compressed.size() * 6, std::size_t{1} << 20));
  try {
    io::filtering_istreambuf in;
    switch (c) {
      case Compression::kGzip:
        in.push(io::gzip_decompressor(io::zlib::default_window_bits, kBlock));
        break;
      case Compression::kXz: in.push(io::lzma_decompressor(kBlock)); break;
      case Compression::kBzip2: in.push(io::bzip2_decompressor(false, kBlock)); break;
      case Compression::kNone: break;
    }
    in.push(io::array_source(compressed.data(), compressed.size()), kBlock);
    for (;;) {
      text.make_room();
      const std::streamsize n = in.sgetn(text.tail(), static_cast<std::streamsize>(text.room()));
      if (n <= 0) break;
      text.grew_by(static_cast<std::size_t>(n));
    }
  } catch (const std::exception& e) {
    throw DataError(name, 0, 0, describe(c, e));
  }
  return text;
}

}  // namespace

InputBuffer read_input(const std::string& path) {
  if (path == "-") {
    ByteBuffer raw = readers::read_stdin();
    const Compression c = readers::compression_by_magic(raw.view());
    if (c == Compression::kNone) return std::move(raw).finish(readers::kStdinName);
    return decompress(c, raw.view(), readers::kStdinName).finish(readers::kStdinName);
  }
  const Compression c = compression_by_suffix(path);
  if (c == Compression::kNone) return readers::read_plain(path);
  return decompress(c, readers::read_file(path).view(), path).finish(path);
}

}  // namespace localsgd::libsvm
