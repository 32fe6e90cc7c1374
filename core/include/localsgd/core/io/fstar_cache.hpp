// f* for `train --target`: computed once by the exact solver and cached on disk under
// $XDG_CACHE_HOME/localsgd (default ~/.cache/localsgd), never next to the data, which
// may be read-only. The key covers the data (data_hash.hpp), the objective's
// name and version, and its resolved parameters.
#pragma once

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>

#include "localsgd/sdk.hpp"

namespace localsgd::core {

std::filesystem::path fstar_cache_directory();

// f* of `objective` on `data`, from the cache or by solving (then stored, if `store`). `log`
// gets one line when the solver runs. A cache that cannot be read or written is bypassed.
// Under MPI only rank 0 stores: another rank's entry, written while rank 0 still looks,
// would make rank 0's answer (and whether it says it solved) depend on timing.
double cached_fstar(const Manifest& manifest, const Objective& objective, const DataView& data,
                    std::ostream& log, bool store = true);

}  // namespace localsgd::core
