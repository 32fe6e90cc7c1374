// The list schedule: averages after exactly the listed steps.
#include <gtest/gtest.h>

#include "test_schedule_support.hpp"
#include "test_support.hpp"

namespace {

using localsgd::testing::expect_param_error;
using localsgd::testing::make_schedule;
using localsgd::testing::sync_steps;
using localsgd::testing::TempDir;
using Steps = std::vector<std::int64_t>;

TEST(ListSchedule, SyncsAfterExactlyTheListedSteps) {
  auto s = make_schedule("list", {{"steps", "3,5,10"}});
  EXPECT_EQ(sync_steps(*s, 12), (Steps{3, 5, 10}));
  EXPECT_EQ(s->nominal_period(), 5);  // gaps 3, 2, 5
  EXPECT_EQ(sync_steps(*make_schedule("list", {{"steps", " 1, 2 ,4 "}}), 4), (Steps{1, 2, 4}));
  EXPECT_EQ(make_schedule("list", {{"steps", "7"}})->nominal_period(), 7);
  EXPECT_EQ(make_schedule("list", {{"steps", "1,2,3"}})->nominal_period(), 1);
}

TEST(ListSchedule, StepsPastTAreIgnored) {
  EXPECT_EQ(sync_steps(*make_schedule("list", {{"steps", "2,10,50"}}), 10), (Steps{2, 10}));
  auto s = make_schedule("list", {{"steps", "2"}});
  s->start({10, 2, 1});
  EXPECT_GT(s->next({2, 1, 0.1, 2, 10, nullptr}).step, 10);
}

TEST(ListSchedule, ReadsAFile) {
  TempDir dir;
  const auto file = dir.write("syncs.txt", "# warm-up\n1\n2\n\n  4  # then every 4\r\n8\n");
  auto s = make_schedule("list", {{"file", file.string()}});
  EXPECT_EQ(sync_steps(*s, 10), (Steps{1, 2, 4, 8}));
  EXPECT_EQ(s->nominal_period(), 4);
}

TEST(ListSchedule, NamesTheOffendingEntry) {
  auto expect_entry_error = [](const std::string& steps, const std::string& entry) {
    try {
      make_schedule("list", {{"steps", steps}});
      ADD_FAILURE() << "no ParamError for steps=" << steps;
    } catch (const localsgd::ParamError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("steps"), std::string::npos) << message;
      EXPECT_NE(message.find(entry), std::string::npos) << message;
    }
  };
  expect_entry_error("3,2", "entry 2 '2'");
  expect_entry_error("1,3,3", "entry 3 '3'");
  expect_entry_error("1,,3", "entry 2 ''");
  expect_entry_error("1,x", "entry 2 'x'");
  expect_entry_error("0", "entry 1 '0'");
  expect_entry_error("-4", "entry 1 '-4'");
  expect_entry_error("2.5", "entry 1 '2.5'");
  expect_entry_error("", "entry 1 ''");
}

TEST(ListSchedule, NeedsExactlyOneSource) {
  expect_param_error([] { make_schedule("list"); }, "steps");
  expect_param_error([] { make_schedule("list", {{"steps", "1"}, {"file", "x"}}); }, "file");
}

TEST(ListSchedule, FileErrorsNameFileAndLine) {
  TempDir dir;
  auto expect_data_error = [&](const std::string& content, std::int64_t line, std::int64_t column) {
    const auto file = dir.write("bad.txt", content);
    try {
      make_schedule("list", {{"file", file.string()}});
      ADD_FAILURE() << "no DataError for " << content;
    } catch (const localsgd::DataError& e) {
      EXPECT_EQ(e.file(), file.string());
      EXPECT_EQ(e.line(), line) << e.located_message();
      EXPECT_EQ(e.column(), column) << e.located_message();
    }
  };
  expect_data_error("1\n2\n  seven\n", 3, 3);
  expect_data_error("1\n# c\n5\n5\n", 4, 1);
  expect_data_error("# nothing\n\n", 0, 0);
  EXPECT_THROW(make_schedule("list", {{"file", (dir.path() / "missing").string()}}),
               localsgd::DataError);
}

}  // namespace
