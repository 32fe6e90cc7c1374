// `localsgd plot`: curves of finished runs from train's JSON lines, one line per run with
// its legend; bad files are one-line errors with file and line.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "localsgd/core/errors.hpp"
#include "test_support.hpp"

namespace localsgd::testing {
namespace {

namespace fs = std::filesystem;

// A logreg run on 1,000 synthetic rows, its JSON lines in `file`.
void train_into(const fs::path& file, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"train",  "--plugin", "logreg", "--reader-param",
                                   "n=1000", "--steps",  "400",    "--eval-every",
                                   "100",    "--format", "json"};
  args.insert(args.end(), extra.begin(), extra.end());
  const CliResult r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ofstream(file) << r.out;
}

TEST(PlotCommand, EachRunIsALineWithItsSettingsInTheLegend) {
  TempDir dir;
  train_into(dir.path() / "one.jsonl", {"-K", "1", "-H", "1"});
  train_into(dir.path() / "four.jsonl", {"-K", "4", "-H", "8", "-b", "2"});
  train_into(dir.path() / "post.jsonl", {"-K", "2", "--schedule", "post-local"});
  const fs::path svg = dir.path() / "runs.svg";
  const CliResult r =
      run_cli({"plot", (dir.path() / "one.jsonl").string(), (dir.path() / "four.jsonl").string(),
               (dir.path() / "post.jsonl").string(), "--out", svg.string(), "--x", "rounds",
               "--title", "three runs"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  const std::string picture = read_text(svg);
  for (const char* text : {"one.jsonl: K=1 H=1 b=4", "four.jsonl: K=4 H=8 b=2",
                           "post.jsonl: K=2 post-local(H=8,t0=T/2) b=4", "three runs", "rounds"})
    EXPECT_NE(picture.find(text), std::string::npos) << text;
}

TEST(PlotCommand, TrainsOwnPlotNamesItsSettings) {
  TempDir dir;
  const fs::path svg = dir.path() / "run.svg";
  const CliResult r =
      run_cli({"train", "--plugin", "logreg", "--reader-param", "n=500", "-K", "3", "-H", "5", "-b",
               "2", "--steps", "300", "--plot", svg.string(), "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(read_text(svg).find("K=3 H=5 b=2"), std::string::npos);
}

// A picture that cannot be drawn is refused before the work (a run, a sweep, reading runs),
// naming the option; the suffix's case does not matter.
TEST(PlotCommand, PicturesThatCannotBeDrawnAreRefusedFirst) {
  TempDir dir;
  const fs::path model = dir.path() / "x.model", upper = dir.path() / "RUN.SVG";
  const std::vector<std::string> train = {"train", "--plugin",     "logreg", "--reader-param",
                                          "n=500", "--steps",      "300",    "-q",
                                          "--out", model.string(), "--plot"};
  auto with_plot = [&](const fs::path& picture) {
    auto args = train;
    args.push_back(picture.string());
    return args;
  };
  const CliResult no_gnuplot = run_cli(with_plot(upper), "PATH=/nonexistent");
  EXPECT_EQ(no_gnuplot.exit_code, kExitRuntime);
  EXPECT_EQ(no_gnuplot.err, "localsgd: error: --plot " + upper.string() +
                                ": drawing needs gnuplot, which is not on PATH (install Debian's "
                                "gnuplot-nox)\n");
  EXPECT_FALSE(fs::exists(model));  // refused before the run
  const CliResult drawn = run_cli(with_plot(upper));
  ASSERT_EQ(drawn.exit_code, 0) << drawn.err;
  EXPECT_NE(read_text(upper).find("<svg"), std::string::npos);
  const CliResult pdf = run_cli(with_plot(dir.path() / "run.pdf"));
  EXPECT_EQ(pdf.exit_code, kExitUsage);
  EXPECT_NE(
      pdf.err.find("--plot " + (dir.path() / "run.pdf").string() + ": use a .svg or .png file"),
      std::string::npos)
      << pdf.err;
  const CliResult plot = run_cli({"plot", "missing.jsonl", "--out", "p.png"}, "PATH=/nonexistent");
  EXPECT_EQ(plot.exit_code, kExitRuntime);
  EXPECT_NE(plot.err.find("--out p.png: drawing needs gnuplot"), std::string::npos) << plot.err;
  const CliResult speedup =
      run_cli({"sweep", "--plugin", "logreg", "--target-rel", "1e-2", "--plot-speedup", "time"});
  EXPECT_EQ(speedup.exit_code, kExitUsage);
  EXPECT_NE(speedup.err.find("--plot-speedup requires --plot"), std::string::npos) << speedup.err;
}

TEST(PlotCommand, BadFilesNameTheFileAndLine) {
  TempDir dir;
  const fs::path svg = dir.path() / "p.svg";
  const auto broken = dir.write("broken.jsonl",
                                "{\"event\":\"progress\",\"epochs\":1,\"objective\":0.5}\n"
                                "\n"
                                "{\"event\":\"progress\",\"epochs\":2,\n");
  CliResult r = run_cli({"plot", broken.string(), "--out", svg.string()});
  EXPECT_EQ(r.exit_code, kExitData);
  EXPECT_EQ(r.err.rfind("localsgd: error: " + broken.string() + ":3:", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("not a JSON line of train --format json"), std::string::npos) << r.err;

  const auto table = dir.write("table.txt", "objective 0.5\n");
  r = run_cli({"plot", table.string(), "--out", svg.string()});
  EXPECT_EQ(r.exit_code, kExitData);
  EXPECT_EQ(r.err.rfind("localsgd: error: " + table.string() + ":1:", 0), 0u) << r.err;

  const auto empty = dir.write("empty.jsonl", "{\"event\":\"sweep\"}\n");
  r = run_cli({"plot", empty.string(), "--out", svg.string()});
  EXPECT_EQ(r.exit_code, kExitData);
  EXPECT_NE(r.err.find(empty.string() + ": no progress or summary event"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(svg));

  // Events of the wrong shape, numbers beyond double's range: the file's error, not ours.
  const auto shape = dir.write("shape.jsonl", "{\"event\":7}\n");
  r = run_cli({"plot", shape.string(), "--out", svg.string()});
  EXPECT_EQ(r.exit_code, kExitData) << r.err;
  EXPECT_NE(r.err.find(shape.string() + ":1:1: not an event"), std::string::npos) << r.err;
  const auto huge = dir.write("huge.jsonl", "{\"event\":\"progress\",\"objective\":1e999}\n");
  r = run_cli({"plot", huge.string(), "--out", svg.string()});
  EXPECT_EQ(r.exit_code, kExitData) << r.err;
  EXPECT_NE(r.err.find(huge.string() + ":1:"), std::string::npos) << r.err;
  // A run with nothing to draw is named, never silently left out of the picture.
  const auto bare = dir.write("bare.jsonl", "{\"event\":\"progress\",\"schema\":1}\n");
  r = run_cli({"plot", bare.string(), "--out", svg.string()});
  EXPECT_EQ(r.exit_code, kExitData) << r.err;
  EXPECT_NE(r.err.find(bare.string() + ": no event with a number for epochs"), std::string::npos)
      << r.err;
  // Two runs in one file would draw as one zig-zag line.
  const auto two = dir.write("two.jsonl",
                             "{\"event\":\"summary\",\"epochs\":1,\"objective\":0.5}\n"
                             "{\"event\":\"progress\",\"epochs\":1,\"objective\":0.5}\n");
  r = run_cli({"plot", two.string(), "--out", svg.string()});
  EXPECT_EQ(r.exit_code, kExitData) << r.err;
  EXPECT_NE(r.err.find(two.string() + ":2:1: another run after the summary"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(svg));

  r = run_cli({"plot", (dir.path() / "missing.jsonl").string(), "--out", svg.string()});
  EXPECT_EQ(r.exit_code, kExitData);
  EXPECT_NE(r.err.find("missing.jsonl: cannot open"), std::string::npos) << r.err;

  r = run_cli({"plot", broken.string(), "--out", svg.string(), "--x", "time"});
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_NE(r.err.find("--x"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace localsgd::testing
