#include "localsgd/core/io/plot.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <sstream>
#include <system_error>

#include "localsgd/atomic_file.hpp"
#include "localsgd/core/errors.hpp"
#include "localsgd/errors.hpp"

namespace localsgd::core {
namespace {

// Whether an executable `name` is on PATH: checked first, because popen() of a missing
// program starts a shell that exits at once, and writing to it raises SIGPIPE.
bool on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (::access(((dir.empty() ? std::string(".") : dir) + "/" + name).c_str(), X_OK) == 0)
      return true;
  return false;
}

// Ignores SIGPIPE while it lives, so that a gnuplot that dies early makes the write fail
// (and pclose report it) instead of killing localsgd.
class IgnoreSigpipe {
 public:
  IgnoreSigpipe() { previous_ = std::signal(SIGPIPE, SIG_IGN); }
  ~IgnoreSigpipe() { std::signal(SIGPIPE, previous_); }
  IgnoreSigpipe(const IgnoreSigpipe&) = delete;
  IgnoreSigpipe& operator=(const IgnoreSigpipe&) = delete;

 private:
  void (*previous_)(int);
};

}  // namespace

std::string gnuplot_quoted(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'')
      out += "''";  // gnuplot's only escape inside single quotes
    else if (c == '\n' || c == '\r')
      out += ' ';  // a newline would end the command
    else
      out += c;
  }
  return out + "'";
}

std::string plot_format(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".svg" || ext == ".png" ? ext.substr(1) : "";
}

void check_plot_file(const std::filesystem::path& path, const std::string& option) {
  if (plot_format(path).empty())
    throw UsageError(option + " " + path.string() + ": use a .svg or .png file");
  for (const char c : path.native())
    if (static_cast<unsigned char>(c) < 0x20)
      throw UsageError(option +
                       ": the file name contains a control character: give a plain "
                       "file name");
  check_output_path(path);  // tries to create a file there (not /proc, not a read-only mount)
  if (!on_path("gnuplot"))
    throw RuntimeFailure(option + " " + path.string() +
                         ": drawing needs gnuplot, which is not on PATH (install Debian's "
                         "gnuplot-nox)");
}

void draw_with_gnuplot(const std::filesystem::path& path, const std::string& commands) {
  check_plot_file(path, "plot file");
  const std::filesystem::path target = detail::resolve_output(path);
  const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
  const std::string temp =
      (dir / ("." + target.filename().string() + ".gnuplot.tmp." + std::to_string(::getpid())))
          .string();
  std::string script = plot_format(path) == "svg"
                           ? "set terminal svg size 800,560 dynamic enhanced font 'sans,12'\n"
                           : "set terminal pngcairo size 800,560 enhanced font 'sans,11'\n";
  script += "set output " + gnuplot_quoted(temp) + "\n" + commands;
  const IgnoreSigpipe ignore_sigpipe;
  // gnuplot writes to its stdout when it cannot open the output: never into ours.
  FILE* gnuplot = ::popen("gnuplot >/dev/null 2>&1", "w");
  if (gnuplot == nullptr)
    throw RuntimeFailure("cannot start gnuplot (install Debian's gnuplot-nox)");
  std::fwrite(script.data(), 1, script.size(), gnuplot);
  const int status = ::pclose(gnuplot);
  std::error_code ec;
  if (status != 0 || !std::filesystem::exists(temp, ec) ||
      std::filesystem::file_size(temp, ec) == 0) {
    std::filesystem::remove(temp, ec);
    throw RuntimeFailure("gnuplot failed to draw " + path.string());
  }
  std::filesystem::rename(temp, target, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    throw DataError(path.string(), 0, 0, "cannot write: " + ec.message());
  }
}

void draw_curves(const std::filesystem::path& path, const std::string& title,
                 const std::string& xlabel, const std::string& ylabel,
                 const std::vector<PlotSeries>& series) {
  bool legend = false;
  for (const PlotSeries& line : series) legend = legend || !line.label.empty();
  std::ostringstream commands, data;
  commands << "set title " << gnuplot_quoted(title) << " noenhanced\n"
           << "set xlabel " << gnuplot_quoted(xlabel) << " noenhanced\n"
           << "set ylabel " << gnuplot_quoted(ylabel) << " noenhanced\n"
           << "set logscale y\nset grid\n"
           << (legend ? "set key top right noenhanced\n" : "set key off\n") << "plot ";
  std::size_t plotted = 0;  // series with at least one drawable point
  for (const PlotSeries& line : series) {
    std::size_t points = 0;
    for (const auto& [x, y] : line.points)
      if (std::isfinite(x) && std::isfinite(y) && y > 0) {
        data << std::setprecision(17) << x << ' ' << y << '\n';
        ++points;
      }
    if (points == 0) continue;
    data << "e\n";
    commands << (plotted > 0 ? ", " : "") << "'-' using 1:2 with linespoints pt 7 ps 0.5 lc "
             << plotted + 1 << " title " << gnuplot_quoted(line.label);
    ++plotted;
  }
  if (plotted == 0) throw RuntimeFailure("nothing to plot: no positive values for a log scale");
  commands << '\n' << data.str();
  draw_with_gnuplot(path, commands.str());
}

std::string run_label(const nlohmann::ordered_json& summary) {
  const auto text = [&](const char* key) {
    const auto it = summary.find(key);
    if (it == summary.end() || it->is_null()) return std::string("?");
    return it->is_string() ? it->get<std::string>() : it->dump();
  };
  std::string label = "K=" + text("workers");
  if (text("schedule") == "constant") {
    label += " H=" + text("local_steps");
  } else {
    label += " " + text("schedule");
    const auto params = summary.find("schedule_params");
    if (params != summary.end() && params->is_object() && !params->empty()) {
      std::string list;
      for (const auto& [key, value] : params->items())
        list += (list.empty() ? "" : ",") + key + "=" +
                (value.is_string() ? value.get<std::string>() : value.dump());
      label += "(" + list + ")";
    }
  }
  label += " b=" + text("batch");
  if (summary.value("async", false)) label += " async";
  return label;
}

}  // namespace localsgd::core
