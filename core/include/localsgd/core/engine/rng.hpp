// Per-worker random streams and the sequential stream of the core: they live in the SDK
// (localsgd/random.hpp), so that plugins draw from the same Philox streams; the core
// keeps their names here.
#pragma once

#include "localsgd/random.hpp"

namespace localsgd::core {

using localsgd::RandomStream;
using localsgd::WorkerRng;

}  // namespace localsgd::core
