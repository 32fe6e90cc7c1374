// Model files: exact round trip, atomic writes, and clear errors for foreign or broken files;
// the SDK's writer (localsgd/model_file.hpp) writes exactly what the core's save_model does
// and what the core's JSON library would.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "localsgd/core/io/model_io.hpp"
#include "localsgd/errors.hpp"
#include "localsgd/model_file.hpp"
#include "test_support.hpp"

namespace {

namespace core = localsgd::core;
using localsgd::testing::TempDir;

core::Model sample_model() {
  return {"logreg",
          {{"lambda", "2.0100504531751391e-05"}},
          3,
          {0.1, -1.0 / 3.0, std::numeric_limits<double>::denorm_min()},
          "/opt/x/lib/localsgd/plugins/logreg.so",
          "1.0.0"};
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

TEST(ModelIo, TheFormatIsPinned) {
  std::ostringstream out;
  localsgd::write_model(out, sample_model());
  EXPECT_EQ(out.str(), R"({"cols":3,"dimension":3,"format":"localsgd-model","objective":"logreg",)"
                       R"("params":{"lambda":"2.0100504531751391e-05"},)"
                       R"("plugin_path":"/opt/x/lib/localsgd/plugins/logreg.so",)"
                       R"("plugin_version":"1.0.0","version":1})"
                       "\n0.1\n-0.3333333333333333\n5e-324\n");
  // Without a recorded plugin (older files, models plugins write) the keys are absent.
  core::Model bare = sample_model();
  bare.plugin_path.clear();
  bare.plugin_version.clear();
  std::ostringstream plain;
  localsgd::write_model(plain, bare);
  EXPECT_EQ(plain.str(),
            R"({"cols":3,"dimension":3,"format":"localsgd-model","objective":"logreg",)"
            R"("params":{"lambda":"2.0100504531751391e-05"},"version":1})"
            "\n0.1\n-0.3333333333333333\n5e-324\n");
}

// The header as nlohmann::json dumps the same object (what save_model wrote before the
// writer moved to the SDK, and what load_model parses).
std::string json_header(const core::Model& model) {
  nlohmann::json header = {{"format", "localsgd-model"},
                           {"version", core::kModelFormatVersion},
                           {"objective", model.objective},
                           {"params", model.params},
                           {"dimension", model.coefficients.size()},
                           {"cols", model.cols}};
  if (!model.plugin_path.empty()) header["plugin_path"] = model.plugin_path;
  if (!model.plugin_version.empty()) header["plugin_version"] = model.plugin_version;
  return header.dump();
}

TEST(ModelIo, TheHeaderIsWhatTheJsonLibraryWrites) {
  std::string controls;
  for (char c = 1; c < 0x20; ++c) controls += c;
  const std::vector<core::Model> models = {
      sample_model(),
      {"mlp", {}, 0, {}, "", ""},
      {"q\"uote\\back/slash", {{"b", "2"}, {"a", "1"}, {"B", "3"}, {"", ""}}, -1, {1.0}, "", ""},
      {"ctl" + controls + "\x7f", {{controls, "\t\n"}}, 7, {}, "/a\"b/" + controls + ".so", ""},
      {"utf8 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xed\x9f\xbf \xf4\x8f\xbf\xbf",
       {{"\xc3\xa9", "\xe2\x82\xac"}},
       1,
       {},
       "",
       "2.0 \xc3\xa9"},
  };
  for (const core::Model& m : models) EXPECT_EQ(localsgd::model_header(m), json_header(m));
  // Not UTF-8 (a lone continuation byte, an overlong form, a surrogate, above U+10FFFF,
  // a truncated sequence): no JSON file can hold it, and neither writer writes it.
  for (const char* bad : {"\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ab\xe2\x82"}) {
    core::Model m = sample_model();
    m.objective = bad;
    EXPECT_THROW(localsgd::model_header(m), std::invalid_argument) << bad;
    EXPECT_THROW(json_header(m), nlohmann::json::exception) << bad;
  }
}

TEST(ModelIo, TheSdkWriterAndSaveModelWriteTheSameFile) {
  TempDir dir;
  core::Model m = sample_model();
  m.params["name"] = "a \"quoted\" \xc3\xa9";
  core::save_model(dir.path() / "core.model", m);
  localsgd::write_model_file(dir.path() / "sdk.model", m);
  EXPECT_EQ(localsgd::testing::read_text(dir.path() / "sdk.model"),
            localsgd::testing::read_text(dir.path() / "core.model"));
  EXPECT_EQ(core::load_model(dir.path() / "sdk.model").params, m.params);
  // Atomic too: nothing left beside the two files, nothing at all after a failed write.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            2);
  TempDir empty;
  EXPECT_THROW(localsgd::write_model_file(empty.path() / "no" / "dir.model", m),
               localsgd::DataError);
  EXPECT_TRUE(std::filesystem::is_empty(empty.path()));
}

}  // namespace
