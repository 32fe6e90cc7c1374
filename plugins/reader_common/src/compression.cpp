#include "localsgd/readers/compression.hpp"

namespace localsgd::readers {

const char* compression_name(Compression c) {
  switch (c) {
    case Compression::kGzip: return "gzip";
    case Compression::kXz: return "xz";
    case Compression::kBzip2: return "bzip2";
    case Compression::kNone: break;
  }
  return "plain";
}

Compression compression_by_magic(std::string_view head) {
  if (head.starts_with("\x1f\x8b")) return Compression::kGzip;
  if (head.starts_with(std::string_view("\xfd"
                                        "7zXZ\0",
                                        6)))
    return Compression::kXz;
  // "BZh", the block size digit, then the block magic 0x314159265359 (the digits of pi).
  if (head.size() >= 10 && head.starts_with("BZh") &&
      head.substr(4, 6) == "\x31\x41\x59\x26\x53\x59")
    return Compression::kBzip2;
  return Compression::kNone;
}

}  // namespace localsgd::readers
