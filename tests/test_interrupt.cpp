// Signal handling across a command's sections (core/run/interrupt.hpp).
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>

#include "localsgd/core/run/interrupt.hpp"

namespace {

using localsgd::core::GracefulInterrupts;
using localsgd::core::ImmediateInterrupts;

// A signal taken gracefully just before loading starts (train installs graceful handling
// first) ends the process when the loading section opens: waiting for a step would hang on
// a read that never ends, such as a FIFO no one writes (seen under load in CI).
TEST(InterruptsDeathTest, ASignalTakenJustBeforeLoadingEndsTheProcessWhenLoadingStarts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        localsgd::core::install_signal_handlers();
        const GracefulInterrupts graceful;
        std::raise(SIGTERM);  // kept for the next step boundary
        const ImmediateInterrupts loading;
        std::exit(0);
      },
      ::testing::ExitedWithCode(143), "localsgd: interrupted by SIGTERM");
}

}  // namespace
