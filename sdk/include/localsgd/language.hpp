// The SDK is C++20 (std::span, concepts, <bit>). Below it, one clear message and a stop,
// instead of a hundred errors that start at std::span: #error alone lets the compiler go
// on, a missing include is fatal. (CMake targets linking localsgd::sdk get C++20 from it.)
#pragma once

#if __cplusplus < 202002L
#error "the localsgd SDK needs C++20: compile with -std=c++20 (in CMake, cxx_std_20)"
#include "localsgd: compile with -std=c++20"
#endif
