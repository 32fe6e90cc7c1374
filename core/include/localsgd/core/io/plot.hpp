// Drawing with gnuplot (Debian's gnuplot-nox): the terminal follows the file's suffix,
// and the picture is written to a temporary file and renamed, never left half-written.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace localsgd::core {

// Runs gnuplot on `commands` (everything after `set terminal`/`set output`: titles,
// labels and the plot command with its inline data). UsageError for a suffix other than
// .svg or .png; RuntimeFailure when gnuplot is missing or fails.
// The output file follows write_file_atomically's rules (a symbolic link is followed,
// a device, FIFO or directory refused).
void draw_with_gnuplot(const std::filesystem::path& path, const std::string& commands);

// Whether a picture can be drawn to `path` at all, before the work that draws it: a .svg
// or .png suffix (either case), a plain name in an existing directory, gnuplot on PATH.
// `option` names where the path came from ("--plot"). UsageError or RuntimeFailure.
void check_plot_file(const std::filesystem::path& path, const std::string& option);

// "svg" or "png" for a path whose suffix is either, in any case; "" otherwise.
std::string plot_format(const std::filesystem::path& path);

// One line of a plot: (x, y) points and its legend ("" for none).
struct PlotSeries {
  std::string label;
  std::vector<std::pair<double, double>> points;
};

// Lines with points on a log-scale y axis, one colour per series, a legend when a series
// has a label. Points with y <= 0 (or not finite) cannot be drawn and are left out;
// RuntimeFailure when none is left. Otherwise as draw_with_gnuplot.
void draw_curves(const std::filesystem::path& path, const std::string& title,
                 const std::string& xlabel, const std::string& ylabel,
                 const std::vector<PlotSeries>& series);

// A run's legend from its `train` summary event: "K=4 H=8 b=4", the schedule and its
// parameters in place of H for schedules other than constant, "async" when it was.
std::string run_label(const nlohmann::ordered_json& summary);

// `text` as a gnuplot single-quoted string: file names and titles are data, never script.
std::string gnuplot_quoted(const std::string& text);

}  // namespace localsgd::core
