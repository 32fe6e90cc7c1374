// Getting a libsvm file's bytes into memory: a plain file mapped (or read in one call),
// standard input ("-"), or a .gz/.xz/.bz2 file decompressed with Boost.Iostreams.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace localsgd::libsvm {

// The whole (decompressed) text, followed by one '\n' sentinel: every line, including an
// unterminated last one, then ends in a newline, and every scan stops inside the buffer.
struct InputBuffer {
  std::shared_ptr<char> bytes;  // heap memory or a private file mapping, freed accordingly
  std::size_t size = 0;         // text bytes, sentinel excluded
  std::string name;             // how errors name the input: the path, or "<stdin>"
};

// Reads `path`; "-" is standard input. Compression is chosen by suffix (.gz, .xz, .bz2);
// on standard input, which has none, by the stream's magic bytes. Throws DataError for a
// directory, a missing or unreadable file, or a corrupt or truncated compressed stream.
InputBuffer read_input(const std::string& path);

}  // namespace localsgd::libsvm
