// The results of a dozen varied runs, recorded from the engine before the core was
// redesigned (issue 9), must not change: every summary and progress field except timings,
// thread counts and paths is compared with the recording exactly (parsed doubles ==).
//
// Fields added since the recording are allowed; a recorded field that is missing or has
// another value fails. Re-record only when a change of results is intended and explained,
// naming the executable to record with:
//   LOCALSGD_RECORD_SUMMARIES=build/bin/localsgd build/bin/localsgd_tests
//       --gtest_filter='RecordedSummaries.*'
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace localsgd::testing {
namespace {

using nlohmann::json;

struct Configuration {
  const char* name;
  std::vector<std::string> args;  // "@" prefix: a file of ../shared/data
};

const std::vector<Configuration>& configurations() {
  static const std::vector<Configuration> list = {
      {"default", {"train", "--plugin", "logreg"}},
      {"w8a_constant",
       {"train", "--plugin", "logreg", "--data", "@w8a", "-K", "4", "-H", "8", "-b", "4",
        "--epochs", "2", "--lr-param", "eta0=1"}},
      {"w8a_outer_nesterov",
       {"train", "--plugin", "logreg", "--data", "@w8a", "-K", "4", "--schedule", "outer-nesterov",
        "--epochs", "1"}},
      {"w8a_hierarchical",
       {"train", "--plugin", "logreg", "--data", "@w8a", "-K", "6", "--schedule", "hierarchical",
        "--schedule-param", "group=3", "--epochs", "1", "--lr", "sqrt"}},
      {"w8a_adacomm",
       {"train", "--plugin", "logreg", "--data", "@w8a", "-K", "3", "--schedule", "adacomm",
        "--epochs", "1", "--lr-param", "eta0=1"}},
      {"w8a_async",
       {"train", "--plugin", "logreg", "--data", "@w8a", "-K", "4", "--async", "--worker-speeds",
        "1,1,0.5,0.25", "--epochs", "1"}},
      {"w8a_async_random",
       {"train", "--plugin", "logreg", "--data", "@w8a", "-K", "5", "--async", "--worker-speeds",
        "random", "--max-staleness", "2", "--epochs", "1", "--seed", "7"}},
      {"w8a_target_progress",
       {"train", "--plugin", "logreg", "--data", "@w8a", "-K", "2", "--fstar",
        "0.12618068651051342", "--target-rel", "0.05", "--lr-param", "eta0=1", "--epochs", "5"}},
      {"w8a_minibatch",
       {"train", "--plugin", "logreg", "--data", "@w8a", "-K", "2", "--schedule", "minibatch",
        "--epochs", "1"}},
      {"w8a_svm_shard",
       {"train", "--plugin", "svm", "--data", "@w8a", "-K", "3", "--partition", "shard", "--lr",
        "constant", "--epochs", "1"}},
      {"a9a_post_local_paper",
       {"train", "--plugin", "logreg", "--data", "@a9a", "-K", "2", "--schedule", "post-local",
        "--lr", "paper", "--epochs", "1"}},
      {"dna_softmax_label_skew",
       {"train", "--plugin", "softmax", "--data", "@dna.scale", "-K", "4", "--partition",
        "label-skew", "--epochs", "2", "--test", "@dna.scale.t"}},
      {"dna_mlp",
       {"train", "--plugin", "mlp", "--data", "@dna.scale", "-K", "2", "-H", "4", "--epochs", "1",
        "--eval-every", "100", "--lr", "constant", "--lr-param", "eta=0.1"}},
      {"abalone_ridge_shuffle",
       {"train", "--plugin", "ridge", "--data", "@abalone_scale", "-K", "3", "--sampling",
        "shuffle", "--lr", "step", "--lr-param", "every=200", "--epochs", "3"}},
      {"abalone_huber_growing",
       {"train", "--plugin", "huber", "--data", "@abalone_scale", "-K", "2", "--partition",
        "contiguous", "--schedule", "growing", "--epochs", "2"}},
      {"w8a_list_async_equal",
       {"train", "--plugin", "logreg", "--data", "@w8a", "-K", "2", "--schedule", "list",
        "--schedule-param", "steps=1,2,4,8,16,64", "--async", "--steps", "200"}},
  };
  return list;
}

// Timings, thread counts and paths differ from run to run and machine to machine, and the
// version from release to release.
bool ignored(const std::string& key) {
  return key == "seconds" || key.ends_with("_seconds") || key == "threads" ||
         key == "samples_per_second" || key == "data" || key == "model" || key == "version";
}

json recordable(const json& event) {
  json out = json::object();
  for (const auto& [key, value] : event.items())
    if (!ignored(key)) out[key] = value;
  return out;
}

std::vector<std::string> resolved(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (const std::string& a : args)
    out.push_back(a.starts_with("@") ? data_file(a.substr(1)).string() : a);
  out.push_back("--format");
  out.push_back("json");
  return out;
}

std::string fixture_path() {
  return std::string(LOCALSGD_SOURCE_DIR) + "/tests/fixtures/recorded_summaries.json";
}

json run_events(const Configuration& c, const std::string& cli = LOCALSGD_CLI) {
  const CliResult r = run_cli(resolved(c.args), "", cli);
  EXPECT_EQ(r.exit_code, 0) << c.name << ": " << r.err;
  json events = json::array();
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line))
    if (!line.empty()) events.push_back(recordable(json::parse(line)));
  return events;
}

TEST(RecordedSummaries, EveryRunGivesTheRecordedResults) {
  for (const char* file : {"w8a", "a9a", "dna.scale", "dna.scale.t", "abalone_scale"})
    LOCALSGD_REQUIRE_DATA_FILE(data_file(file));
  if (const char* recorder = std::getenv("LOCALSGD_RECORD_SUMMARIES"); recorder != nullptr) {
    json all = json::object();
    for (const Configuration& c : configurations()) all[c.name] = run_events(c, recorder);
    std::ofstream(fixture_path()) << all.dump(1) << '\n';
    GTEST_SKIP() << "recorded " << fixture_path();
  }
  std::ifstream in(fixture_path());
  ASSERT_TRUE(in) << "missing " << fixture_path();
  const json recorded = json::parse(in);
  for (const Configuration& c : configurations()) {
    SCOPED_TRACE(c.name);
    ASSERT_TRUE(recorded.contains(c.name)) << "not recorded: " << c.name;
    const json& expected = recorded[c.name];
    const json actual = run_events(c);
    ASSERT_EQ(actual.size(), expected.size()) << "number of events";
    for (std::size_t e = 0; e < expected.size(); ++e)
      for (const auto& [key, value] : expected[e].items()) {
        ASSERT_TRUE(actual[e].contains(key)) << "event " << e << " lacks " << key;
        EXPECT_EQ(actual[e][key], value) << "event " << e << " field " << key;
      }
  }
}

}  // namespace
}  // namespace localsgd::testing
