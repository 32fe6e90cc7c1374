#include "localsgd/core/io/plot.hpp"

#include <cstdio>
#include <system_error>

#include "localsgd/core/errors.hpp"
#include "localsgd/errors.hpp"

namespace localsgd::core {

void draw_with_gnuplot(const std::filesystem::path& path, const std::string& commands) {
  const std::string ext = path.extension().string();
  if (ext != ".svg" && ext != ".png")
    throw UsageError("plot file " + path.string() + ": use a .svg or .png file");
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  const std::string temp = (dir / ("." + path.filename().string() + ".gnuplot.tmp")).string();
  std::string script = ext == ".svg"
                           ? "set terminal svg size 800,560 dynamic enhanced font 'sans,12'\n"
                           : "set terminal pngcairo size 800,560 enhanced font 'sans,11'\n";
  script += "set output '" + temp + "'\n" + commands;
  FILE* gnuplot = ::popen("gnuplot 2>/dev/null", "w");
  if (gnuplot == nullptr)
    throw RuntimeFailure("cannot start gnuplot (install Debian's gnuplot-nox)");
  std::fwrite(script.data(), 1, script.size(), gnuplot);
  const int status = ::pclose(gnuplot);
  std::error_code ec;
  if (status != 0 || !std::filesystem::exists(temp, ec) ||
      std::filesystem::file_size(temp, ec) == 0) {
    std::filesystem::remove(temp, ec);
    throw RuntimeFailure("gnuplot failed to draw " + path.string() +
                         " (is gnuplot-nox installed?)");
  }
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    throw DataError(path.string(), 0, 0, "cannot write: " + ec.message());
  }
}

}  // namespace localsgd::core
