// Getting a file's or standard input's bytes into memory as they are (no decompression).
// Every function throws DataError naming the input for a directory, a missing or
// unreadable file, or a read error.
#pragma once

#include <string>

#include "localsgd/readers/input_buffer.hpp"

namespace localsgd::readers {

// What messages call standard input, which a reader reads for the path "-".
inline constexpr const char* kStdinName = "<stdin>";

// Standard input, read to its end.
ByteBuffer read_stdin();

// A file's bytes, read whole rather than mapped: for input that is then decompressed
// from memory.
ByteBuffer read_file(const std::string& path);

// Plain input ready to parse: a file mapped when possible, else read whole; "-" reads
// standard input.
InputBuffer read_plain(const std::string& path);

}  // namespace localsgd::readers
