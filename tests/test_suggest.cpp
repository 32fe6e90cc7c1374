// closest_match: the typo distance and its limits.
#include <gtest/gtest.h>

#include "localsgd/core/io/suggest.hpp"

namespace {

using localsgd::core::closest_match;

TEST(ClosestMatch, FindsTyposWithinTheirLengthsAllowance) {
  const std::vector<std::string> names = {"--workers", "--local-steps", "--epochs", "-K"};
  EXPECT_EQ(closest_match("--wokers", names), "--workers");   // a deletion
  EXPECT_EQ(closest_match("--wokrers", names), "--workers");  // a swap counts one
  EXPECT_EQ(closest_match("--epoch", names), "--epochs");
  EXPECT_EQ(closest_match("-k", names), "-K");
  EXPECT_EQ(closest_match("--seed", names), std::nullopt);     // 4 edits from --epochs
  EXPECT_EQ(closest_match("--workers", names), std::nullopt);  // itself is no suggestion
  EXPECT_EQ(closest_match("lgoreg", {"logreg", "ridge"}), "logreg");
  EXPECT_EQ(closest_match("abcd", {"wxyz"}), std::nullopt);
  EXPECT_EQ(closest_match("x", {}), std::nullopt);
}

}  // namespace
