// ABI version and symbol visibility shared by the core and every plugin.
//
// Plugins are compiled separately from the core, so every type that crosses the
// boundary (interfaces, the manifest, exceptions) must agree on layout. Any change to
// those types bumps kAbiVersion; the loader refuses a plugin built against another one.
#pragma once

#include "localsgd/language.hpp"  // first: C++20 or one clear error

#include <cstdint>

// Exceptions and polymorphic interfaces thrown or passed across shared-library
// boundaries need default visibility, or their type_info may not match between a
// plugin built with -fvisibility=hidden and the core (catch clauses would miss).
#define LOCALSGD_API __attribute__((visibility("default")))

namespace localsgd {

// 4: Schedule::combine_state(); 5: ReadRequest::select_rows, Dataset::selected_from_entries
inline constexpr std::uint32_t kAbiVersion = 5;

}  // namespace localsgd
