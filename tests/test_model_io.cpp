// Model files: exact round trip, atomic writes, and clear errors for foreign or broken files.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "localsgd/core/model_io.hpp"
#include "localsgd/errors.hpp"
#include "test_support.hpp"

namespace {

namespace core = localsgd::core;
using localsgd::testing::TempDir;

core::Model sample_model() {
  return {"logreg",
          {{"lambda", "2.0100504531751391e-05"}},
          3,
          {0.1, -1.0 / 3.0, std::numeric_limits<double>::denorm_min()}};
}

TEST(ModelIo, RoundTripIsBitExact) {
  TempDir dir;
  const auto path = dir.path() / "m.model";
  core::save_model(path, sample_model());
  const core::Model loaded = core::load_model(path);
  EXPECT_EQ(loaded.objective, "logreg");
  EXPECT_EQ(loaded.params, sample_model().params);
  EXPECT_EQ(loaded.cols, 3);
  EXPECT_EQ(loaded.coefficients, sample_model().coefficients);
  // No temporary file is left beside it.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            1);
}

void expect_data_error(const std::filesystem::path& path, std::int64_t line, const char* text) {
  try {
    core::load_model(path);
    FAIL() << "expected a DataError";
  } catch (const localsgd::DataError& e) {
    EXPECT_EQ(e.file(), path.string());
    EXPECT_EQ(e.line(), line);
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

TEST(ModelIo, RejectsForeignCorruptAndTruncatedFiles) {
  TempDir dir;
  expect_data_error(dir.path() / "missing", 0, "cannot open");
  expect_data_error(dir.write("a", "1 1:2 3:4\n"), 1, "not a localsgd model");
  expect_data_error(dir.write("b", "{\"format\":\"other\"}\n"), 1, "not a localsgd model");
  const std::string header =
      R"({"format":"localsgd-model","version":1,"objective":"logreg","params":{},"dimension":3,"cols":3})";
  expect_data_error(dir.write("c", header + "\n1\n2\n"), 3, "truncated?");
  expect_data_error(dir.write("d", header + "\n1\nx\n3\n"), 3, "expected a finite number");
  expect_data_error(dir.write("e", header + "\n1\nnan\n3\n"), 3, "expected a finite number");
  std::string future = header;
  future.replace(future.find("\"version\":1"), 11, "\"version\":7");
  expect_data_error(dir.write("f", future + "\n1\n2\n3\n"), 1, "version 7");
}

TEST(ModelIo, FailedWriteLeavesNothingBehind) {
  TempDir dir;
  EXPECT_THROW(core::save_model(dir.path() / "no" / "such" / "dir.model", sample_model()),
               localsgd::DataError);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

}  // namespace
