// Checkpoints of a run over several processes: each process holds the state of its own
// workers, and process 0 writes one checkpoint with all of them, so that a run can be
// resumed on any number of processes (or threads).
#pragma once

#include "communicator.hpp"
#include "localsgd/core/engine/engine_state.hpp"

namespace localsgd::core {

// Collective. On entry `state` holds this process's workers (in order) and the models they
// have yet to adopt; on return process 0's holds every process's workers in global order
// and the distinct pending models of all (equal models stored once), the others' none.
void gather_worker_states(Communicator& communicator, EngineState& state);

}  // namespace localsgd::core
