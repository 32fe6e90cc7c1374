// Drawing with gnuplot (Debian's gnuplot-nox): the terminal follows the file's suffix,
// and the picture is written to a temporary file and renamed, never left half-written.
#pragma once

#include <filesystem>
#include <string>

namespace localsgd::core {

// Runs gnuplot on `commands` (everything after `set terminal`/`set output`: titles,
// labels and the plot command with its inline data). UsageError for a suffix other than
// .svg or .png; RuntimeFailure when gnuplot is missing or fails.
// The output file follows write_file_atomically's rules (a symbolic link is followed,
// a device, FIFO or directory refused).
void draw_with_gnuplot(const std::filesystem::path& path, const std::string& commands);

// `text` as a gnuplot single-quoted string: file names and titles are data, never script.
std::string gnuplot_quoted(const std::string& text);

}  // namespace localsgd::core
