// Recognising compressed data by its first bytes: the libsvm reader decompresses standard
// input by them, and the readers that take only plain input name the format they refuse
// (a gzip file would otherwise be reported as a malformed number or a foreign file).
#pragma once

#include <string_view>

namespace localsgd::readers {

enum class Compression { kNone, kGzip, kXz, kBzip2 };

// "gzip", "xz", "bzip2", or "plain" for kNone: the word the messages use.
const char* compression_name(Compression c);

// The format whose magic bytes `head` starts with (the whole input may be passed).
// bzip2 needs "BZh" followed by the magic of its first block, since "BZh" alone could
// begin a text file.
Compression compression_by_magic(std::string_view head);

}  // namespace localsgd::readers
