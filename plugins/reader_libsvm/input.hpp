// Getting a libsvm file's bytes into memory: a plain file mapped (or read in one call),
// standard input ("-"), or a .gz/.xz/.bz2 file decompressed with Boost.Iostreams.
#pragma once

#include <string>

#include <localsgd/readers/input_buffer.hpp>

namespace localsgd::libsvm {

using readers::InputBuffer;

// Reads `path`; "-" is standard input. Compression is chosen by suffix (.gz, .xz, .bz2);
// on standard input, which has none, by the stream's magic bytes. Throws DataError for a
// directory, a missing or unreadable file, or a corrupt or truncated compressed stream.
InputBuffer read_input(const std::string& path);

}  // namespace localsgd::libsvm
