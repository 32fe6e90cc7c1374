// Compiled by ctest `sdk_below_cpp20_says_so` with -std=c++17: the SDK must refuse it with
// one message.
#include <localsgd/sdk.hpp>

int main() { return 0; }
