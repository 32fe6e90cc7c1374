// Helpers shared by the test files: real data files, temporary directories, and running
// the localsgd executable as a user would.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "localsgd/data.hpp"
#include "localsgd/errors.hpp"

namespace localsgd::testing {

namespace fs = std::filesystem;

inline bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

inline fs::path data_file(const std::string& name) {
  return fs::path(LOCALSGD_DATA_DIR) / name;
}

// A real data file is a hard requirement in CI and optional on a developer's machine.
#define LOCALSGD_REQUIRE_DATA_FILE(path)                          \
  do {                                                            \
    if (!std::filesystem::exists(path)) {                         \
      if (::localsgd::testing::running_in_ci())                   \
        FAIL() << "missing data file " << (path) << " (CI=true)"; \
      GTEST_SKIP() << "missing data file " << (path);             \
    }                                                             \
  } while (false)

// A fresh directory, removed with everything in it when the object goes away.
class TempDir {
 public:
  TempDir() {
    path_ =
        fs::temp_directory_path() / ("localsgd_test_" + std::to_string(std::random_device{}()) +
                                     "_" + std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }
  fs::path write(const std::string& name, const std::string& content) const {
    const fs::path file = path_ / name;
    std::ofstream(file, std::ios::binary) << content;
    return file;
  }

 private:
  fs::path path_;
};

// Waits (up to 20 s) until process `pid` has a handler for `signal` (the SigCgt mask in
// /proc): a signal sent sooner meets the default action, e.g. while a sanitizer build
// starts up on a loaded machine, and a test of the handler would fail for the machine.
inline bool wait_until_catching(pid_t pid, int signal) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < until) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);)
      if (line.rfind("SigCgt:", 0) == 0 &&
          (std::stoull(line.substr(7), nullptr, 16) >> (signal - 1) & 1) != 0)
        return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

inline std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void write_text(const fs::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary) << text;
}

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// The shell command that runs `cli <args...>` with `env` and no standard input, its
// standard output and error into `out` and `err`.
inline std::string cli_command(const std::vector<std::string>& args, const std::string& env,
                               const std::string& cli, const fs::path& out, const fs::path& err) {
  std::string command = env.empty() ? "" : env + " ";
  command += shell_quote(cli);
  for (const std::string& a : args) command += " " + shell_quote(a);
  return command + " >" + shell_quote(out.string()) + " 2>" + shell_quote(err.string()) +
         " </dev/null";
}

inline int exit_code_of(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs `localsgd <args...>` through the shell, capturing stdout, stderr and the exit code.
// `cli` is the executable (another build's, e.g. to record reference results).
inline CliResult run_cli(const std::vector<std::string>& args, const std::string& env = "",
                         const std::string& cli = LOCALSGD_CLI) {
  TempDir dir;
  const int status =
      std::system(cli_command(args, env, cli, dir.path() / "out", dir.path() / "err").c_str());
  CliResult r;
  r.exit_code = exit_code_of(status);
  r.out = read_text(dir.path() / "out");
  r.err = read_text(dir.path() / "err");
  return r;
}

// Runs one `localsgd` process per argument list, all at the same time (started together
// by one shell, which waits for every one), and returns their results in order.
inline std::vector<CliResult> run_cli_concurrently(
    const std::vector<std::vector<std::string>>& commands, const std::string& env = "") {
  TempDir dir;
  std::string script;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    const fs::path base = dir.path() / std::to_string(i);
    script += "( " +
              cli_command(commands[i], env, LOCALSGD_CLI, base.string() + ".out",
                          base.string() + ".err") +
              "; echo $? >" + shell_quote(base.string() + ".rc") + " ) & ";
  }
  script += "wait";
  EXPECT_EQ(std::system(("sh -c " + shell_quote(script)).c_str()), 0);
  std::vector<CliResult> results(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    const fs::path base = dir.path() / std::to_string(i);
    const std::string rc = read_text(base.string() + ".rc");
    results[i].exit_code = rc.empty() ? -1 : std::stoi(rc);
    results[i].out = read_text(base.string() + ".out");
    results[i].err = read_text(base.string() + ".err");
  }
  return results;
}

// Same length and the same bits (not just ==: -0.0 vs 0.0 and NaNs count).
inline bool bitwise_equal(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

namespace detail {

// One array of a data set, element by element with memcmp: for doubles that makes -0.0
// differ from 0.0 (and a NaN equal only to the same NaN); for integers it is ==. Reports
// the first difference only, so a shifted array gives one readable line, not thousands.
template <class T>
void expect_same_array(std::span<const T> actual, std::span<const T> expected, const char* name) {
  ASSERT_EQ(actual.size(), expected.size()) << name << " sizes differ";
  for (std::size_t i = 0; i < actual.size(); ++i) {
    if (std::memcmp(&actual[i], &expected[i], sizeof(T)) != 0) {
      ADD_FAILURE() << name << "[" << i << "] differs (first difference): " << std::setprecision(17)
                    << actual[i] << " vs " << expected[i];
      return;
    }
  }
}

}  // namespace detail

// Whether expect_same_data compares the column counts. Ignore them only where a format
// cannot keep trailing empty columns (e.g. LIBSVM text, whose cols is the last index seen).
enum class Cols { compare, ignore };

// The same matrix: row_ptr, index (and cols) exactly, values and labels bit for bit.
// Compare Datasets through view(): one from the bin reader keeps its arrays outside its
// vectors. The source name is not compared.
inline void expect_same_data(const DataView& actual, const DataView& expected,
                             Cols cols = Cols::compare) {
  if (cols == Cols::compare) {
    EXPECT_EQ(actual.cols, expected.cols) << "cols";
  }
  detail::expect_same_array(actual.row_ptr, expected.row_ptr, "row_ptr");
  detail::expect_same_array(actual.index, expected.index, "index");
  detail::expect_same_array(actual.value, expected.value, "value");
  detail::expect_same_array(actual.label, expected.label, "label");
}

using Entries = std::vector<std::pair<std::int32_t, double>>;

// The (column, value) pairs stored in one row.
inline Entries row_entries(const Dataset& data, std::int64_t row) {
  Entries out;
  const auto r = data.view().row(row);
  for (std::int64_t j = 0; j < r.size; ++j) out.emplace_back(r.index[j], r.value[j]);
  return out;
}

// `make` must throw a ParamError whose message contains `param` (a parameter's name, or
// the whole expected message).
inline void expect_param_error(const std::function<void()>& make, const std::string& param) {
  try {
    make();
    ADD_FAILURE() << "no ParamError for " << param;
  } catch (const ParamError& e) {
    EXPECT_NE(std::string(e.what()).find(param), std::string::npos)
        << "'" << e.what() << "' does not name " << param;
  }
}

// The last line of a (JSON lines) output.
inline std::string last_line(const std::string& text) {
  std::string s = text;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  const auto nl = s.rfind('\n');
  return nl == std::string::npos ? s : s.substr(nl + 1);
}

}  // namespace localsgd::testing
