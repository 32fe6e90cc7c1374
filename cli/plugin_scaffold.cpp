#include "plugin_scaffold.hpp"

#include <fstream>
#include <regex>
#include <string_view>

#include "localsgd/core/errors.hpp"
#include "localsgd/core/io/atomic_file.hpp"

namespace localsgd::cli {
namespace {

// @NAME@ is the plugin's name.
constexpr std::string_view kCMakeLists =
    R"TEMPLATE(# The @NAME@ plugin for localsgd, out of tree. Build and try:
#   cmake -S . -B build -DCMAKE_PREFIX_PATH=<localsgd's install prefix>
#   cmake --build build && ctest --test-dir build
#   localsgd plugins info build/@NAME@.so
cmake_minimum_required(VERSION 3.22)
project(@NAME@ LANGUAGES CXX)

find_package(localsgd REQUIRED)  # the SDK headers and localsgd_add_plugin()

# @NAME@.so, named so that it loads by its plugin name; `cmake --install` puts it where
# an installed localsgd looks (PREFIX/lib/localsgd/plugins).
localsgd_add_plugin(@NAME@ SOURCES @NAME@.cpp)

enable_testing()
add_executable(@NAME@_test @NAME@_test.cpp @NAME@.cpp)
target_link_libraries(@NAME@_test PRIVATE localsgd::sdk)
target_compile_definitions(@NAME@_test PRIVATE LOCALSGD_PLUGIN_TEST)
add_test(NAME @NAME@_test COMMAND @NAME@_test)
)TEMPLATE";

constexpr std::string_view kObjective =
    R"TEMPLATE(// @NAME@: log-cosh regression, an example objective plugin for localsgd.
//
//   f(x) = (1/n) sum_i log(cosh(a_i.w - y_i)) + (lambda/2) |w|^2
//
// A generalised-linear model: the loss of row i depends on x only through the margin
// z = a_i.w (+ an intercept with bias=true). Deriving from RegularisedLinear gives the
// engine's sparse fast path, the L2 term, the parameters `lambda` and `bias`, and the
// curvature constants, from three functions of z: the loss phi(z, y) and its first two
// derivatives in z. An objective that is not of this form derives from Objective and
// implements loss_and_gradient() itself (see localsgd/objective.hpp).
#include <algorithm>
#include <cmath>

#include <localsgd/sdk.hpp>

namespace {

class LogCosh final : public localsgd::RegularisedLinear {
 public:
  // The second argument bounds phi'' over all z and y (here 1 - tanh^2 <= 1): with it the
  // core knows L, the smoothness constant behind the safe step sizes. A loss whose phi''
  // has no bound (a Poisson loss, exp(z)) passes infinity: L is then unknown, and
  // the default step size (--lr auto) finds a step by probing instead.
  explicit LogCosh(const localsgd::ObjectiveArgs& args) : RegularisedLinear(args, 1.0) {}

  double margin_loss(double z, double y) const override {
    const double r = std::abs(z - y);
    return r + std::log1p(std::exp(-2 * r)) - std::log(2.0);  // log cosh r, without overflow
  }

  // Called with many margins at once (a mini-batch): keep the loop simple, the compiler
  // vectorises it. Workers call these concurrently: they must not change the object.
  void margin_derivatives(std::span<const double> z, std::span<const double> y,
                          std::span<double> dphi) const override {
    for (std::size_t i = 0; i < z.size(); ++i) dphi[i] = std::tanh(z[i] - y[i]);
  }

  void margin_second_derivatives(std::span<const double> z, std::span<const double> y,
                                 std::span<double> d2phi) const override {
    for (std::size_t i = 0; i < z.size(); ++i) {
      const double t = std::tanh(z[i] - y[i]);
      d2phi[i] = 1 - t * t;
    }
  }

  // What `localsgd predict` prints and how `localsgd eval` scores: a real value (RMSE).
  Prediction prediction_kind() const override { return Prediction::value; }
  double predict(const localsgd::SparseRow& row, std::span<const double> x) const override {
    return margin(row, x);
  }
};

// Parameters users pass with --param KEY=VALUE; `localsgd plugins info @NAME@` lists them.
constexpr localsgd::ParamDoc kParams[] = {localsgd::RegularisedLinear::kLambdaDoc,
                                          localsgd::RegularisedLinear::kBiasDoc};

}  // namespace

// The manifest: kind, name (what --plugin and `plugins list` say), version, description.
// extern: the test links this file and reads the manifest (const would hide it).
extern const localsgd::Manifest kManifest;
const localsgd::Manifest kManifest = localsgd::objective_manifest<LogCosh>(
    "@NAME@", "0.1.0", "log-cosh regression (robust to outliers)", kParams);

#ifndef LOCALSGD_PLUGIN_TEST  // the test links this file into an executable instead
LOCALSGD_PLUGIN(kManifest)
#endif
)TEMPLATE";

constexpr std::string_view kObjectiveTest =
    R"TEMPLATE(// Tests of @NAME@: its gradient against finite differences (the SDK's gradient_check) and
// its value at a known point, on a tiny data set built in memory.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <localsgd/gradient_check.hpp>
#include <localsgd/sdk.hpp>

extern const localsgd::Manifest kManifest;

namespace {

int failures = 0;
void check(bool ok, const char* what) {
  if (!ok) std::fprintf(stderr, "FAILED: %s\n", what), ++failures;
}

}  // namespace

int main() {
  // Three rows, two columns, in CSR form: row_ptr, column indices (0-based), values.
  localsgd::Dataset data;
  data.row_ptr = {0, 2, 3, 5};
  data.index = {0, 1, 1, 0, 1};
  data.value = {1.0, -2.0, 0.5, 3.0, 1.0};
  data.label = {0.5, -1.0, 2.0};
  data.cols = 2;
  localsgd::ParamMap params;
  params.set("lambda", "0.1");
  const localsgd::DataView view = data.view();
  const auto objective = kManifest.make_objective({params, view, data.cols});

  const std::vector<std::int64_t> rows = {0, 1, 2};
  const std::vector<double> x = {0.3, -0.7};
  check(localsgd::gradient_check(*objective, view, rows, x) < 1e-6, "gradient");

  // At x = 0 every margin is 0: f = mean of log cosh(y_i), plus no L2 term.
  std::vector<double> zero(2, 0.0), gradient(2);
  const double f = objective->loss_and_gradient(view, rows, zero, gradient);
  const double expected = (std::log(std::cosh(0.5)) + std::log(std::cosh(1.0)) +
                           std::log(std::cosh(2.0))) / 3;
  check(std::abs(f - expected) < 1e-12, "value at 0");
  if (failures == 0) std::printf("@NAME@: all tests passed\n");
  return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
)TEMPLATE";

constexpr std::string_view kReader =
    R"TEMPLATE(// @NAME@: an example reader plugin for localsgd. It reads dense text tables, one row per
// line: the label, then every feature, separated by spaces or tabs; '#' starts a
// comment. Zeros are not stored (the data set is sparse, CSR).
//
//   localsgd train --plugin logreg --data table.txt --reader ./build/@NAME@.so
//
// A reader turns a file into a Dataset. Report bad input with DataError naming the file,
// line and column: the core prints "file:line:col: message" and exits with 3.
#include <charconv>
#include <fstream>
#include <string>

#include <localsgd/sdk.hpp>

namespace {

class DenseTable final : public localsgd::Reader {
 public:
  // Reader parameters (--reader-param KEY=VALUE) arrive here; this one has none.
  explicit DenseTable(const localsgd::ParamMap&) {}

  localsgd::Dataset read(const localsgd::ReadRequest& request) const override {
    std::ifstream in(request.path);
    if (!in) throw localsgd::DataError(request.path, 0, 0, "cannot open the file");
    localsgd::Dataset data;  // row_ptr starts as {0}
    data.source = request.path;
    std::string line;
    std::int64_t line_number = 0, width = -1;
    while (std::getline(in, line)) {
      ++line_number;
      line = line.substr(0, line.find('#'));
      std::int64_t column = 0;  // fields read on this line
      std::size_t at = 0;
      while (true) {
        at = line.find_first_not_of(" \t\r", at);
        if (at == std::string::npos) break;
        const std::size_t end = std::min(line.find_first_of(" \t\r", at), line.size());
        double value = 0;
        const auto [stop, error] = std::from_chars(line.data() + at, line.data() + end, value);
        if (error != std::errc() || stop != line.data() + end)
          throw localsgd::DataError(request.path, line_number, static_cast<std::int64_t>(at) + 1,
                                    "expected a number, got '" + line.substr(at, end - at) + "'");
        if (column == 0) {
          data.label.push_back(value);
        } else if (value != 0) {
          data.index.push_back(static_cast<std::int32_t>(column - 1));
          data.value.push_back(value);
        }
        ++column;
        at = end;
      }
      if (column == 0) continue;  // blank or comment line
      if (width >= 0 && column != width)
        throw localsgd::DataError(request.path, line_number, 0,
                                  "has " + std::to_string(column - 1) + " features, line 1 has " +
                                      std::to_string(width - 1));
      width = column;
      data.row_ptr.push_back(static_cast<std::int64_t>(data.index.size()));
    }
    data.cols = width > 0 ? width - 1 : 0;
    return data;
  }
};

}  // namespace

// extern: the test links this file and reads the manifest (const would hide it).
extern const localsgd::Manifest kManifest;
const localsgd::Manifest kManifest = localsgd::reader_manifest<DenseTable>(
    "@NAME@", "0.1.0", "dense text tables: label, then every feature, per line", {});

#ifndef LOCALSGD_PLUGIN_TEST  // the test links this file into an executable instead
LOCALSGD_PLUGIN(kManifest)
#endif
)TEMPLATE";

constexpr std::string_view kReaderTest =
    R"TEMPLATE(// Tests of @NAME@: a small file read back exactly, and an error with its line and column.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <localsgd/sdk.hpp>

extern const localsgd::Manifest kManifest;

namespace {

int failures = 0;
void check(bool ok, const char* what) {
  if (!ok) std::fprintf(stderr, "FAILED: %s\n", what), ++failures;
}

std::string write(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path.string();
}

}  // namespace

int main() {
  const auto reader = kManifest.make_reader({});
  const auto data = reader->read({write("@NAME@_ok.txt", "# label x1 x2\n1 0.5 0\n-1 0 2\n")});
  check(data.rows() == 2 && data.cols == 2, "shape");
  check(data.label[0] == 1 && data.label[1] == -1, "labels");
  check(data.nnz() == 2 && data.index[0] == 0 && data.index[1] == 1, "zeros are not stored");
  try {
    reader->read({write("@NAME@_bad.txt", "1 0.5 0\n1 x 2\n")});
    check(false, "a bad number is refused");
  } catch (const localsgd::DataError& e) {
    check(e.line() == 2 && e.column() == 3, "the error names line 2, column 3");
  }
  if (failures == 0) std::printf("@NAME@: all tests passed\n");
  return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
)TEMPLATE";

constexpr std::string_view kSchedule =
    R"TEMPLATE(// @NAME@: an example averaging schedule for localsgd. Workers average after H steps,
// then after 2H more, 4H more, ... up to a cap: frequent averages early, when the
// iterates move fast, fewer later (the intuition behind post-local SGD).
//
//   localsgd train --plugin logreg --schedule ./build/@NAME@.so --schedule-param H=2
//
// The engine asks next() at the start of the run and after every average, so workers
// run their local steps without consulting the schedule. next() is never called
// concurrently (in an asynchronous run, workers' calls arrive one at a time in simulated
// time order; see localsgd/schedule.hpp).
#include <algorithm>

#include <localsgd/sdk.hpp>

namespace {

class Doubling final : public localsgd::Schedule {
 public:
  explicit Doubling(const localsgd::ParamMap& params)
      : first_(params.positive_integer("H", 4)), cap_(params.positive_integer("max", 256)) {}

  // ctx.round is the number of averages so far: gaps H, 2H, 4H, ..., at most `max`.
  localsgd::SyncEvent next(const localsgd::SyncContext& ctx) override {
    const std::int64_t shift = std::min<std::int64_t>(ctx.round, 40);
    return {ctx.step + std::min(cap_, first_ << shift), 0};  // 0: all workers average
  }

  // The typical gap, used as the default shift of the weighted output average.
  std::int64_t nominal_period() const override { return first_; }

 private:
  std::int64_t first_, cap_;
};

constexpr localsgd::ParamDoc kParams[] = {
    {"H", "4", "local steps before the first average"},
    {"max", "256", "the largest gap between two averages"},
};

}  // namespace

// extern: the test links this file and reads the manifest (const would hide it).
extern const localsgd::Manifest kManifest;
const localsgd::Manifest kManifest = localsgd::schedule_manifest<Doubling>(
    "@NAME@", "0.1.0", "average after H, 2H, 4H, ... steps, up to max", kParams);

#ifndef LOCALSGD_PLUGIN_TEST  // the test links this file into an executable instead
LOCALSGD_PLUGIN(kManifest)
#endif
)TEMPLATE";

constexpr std::string_view kScheduleTest =
    R"TEMPLATE(// Tests of @NAME@: the sync steps it asks for, and its cap.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <localsgd/sdk.hpp>

extern const localsgd::Manifest kManifest;

int main() {
  localsgd::ParamMap params;
  params.set("H", "2");
  params.set("max", "8");
  const auto schedule = kManifest.make_schedule(params);
  std::vector<std::int64_t> steps;
  localsgd::SyncContext ctx{0, 0, 0.1, 4, 100, nullptr};
  for (int i = 0; i < 6; ++i) {
    ctx.step = schedule->next(ctx).step;
    ++ctx.round;
    steps.push_back(ctx.step);
  }
  const std::vector<std::int64_t> expected = {2, 6, 14, 22, 30, 38};  // gaps 2, 4, 8, 8, ...
  if (steps != expected) {
    std::fprintf(stderr, "FAILED: sync steps\n");
    return EXIT_FAILURE;
  }
  std::printf("@NAME@: all tests passed\n");
  return EXIT_SUCCESS;
}
)TEMPLATE";

std::string filled(std::string_view text, const std::string& name) {
  return std::regex_replace(std::string(text), std::regex("@NAME@"), name);
}

}  // namespace

std::filesystem::path write_plugin_project(const std::string& name, PluginKind kind,
                                           const std::filesystem::path& parent) {
  if (!std::regex_match(name, std::regex("[a-z][a-z0-9_]*")))
    throw UsageError("plugin name '" + name +
                     "': use lower-case letters, digits and '_', starting with a letter");
  const std::filesystem::path dir = parent / name;
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_empty(dir, ec))
    throw UsageError(dir.string() + " exists and is not empty; choose another --dir or name");
  std::filesystem::create_directories(dir, ec);
  if (ec) throw DataError(dir.string(), 0, 0, "cannot create the directory: " + ec.message());
  const auto [source, test] = kind == PluginKind::objective ? std::pair{kObjective, kObjectiveTest}
                              : kind == PluginKind::reader  ? std::pair{kReader, kReaderTest}
                                                            : std::pair{kSchedule, kScheduleTest};
  for (const auto& [file, text] :
       {std::pair{std::string("CMakeLists.txt"), kCMakeLists}, std::pair{name + ".cpp", source},
        std::pair{name + "_test.cpp", test}}) {
    const std::string content = filled(text, name);  // (clang 14 cannot capture a binding)
    core::write_file_atomically(dir / file, [&](std::ostream& out) { out << content; });
  }
  return dir;
}

}  // namespace localsgd::cli
