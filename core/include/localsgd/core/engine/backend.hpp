// Where a run's K workers live: threads of this process, or MPI ranks (each with its
// share of the workers, threads inside). See README "Beyond one machine".
#pragma once

namespace localsgd::core {

enum class Backend { threads, mpi };

// This process's MPI rank once the mpi backend has started MPI, else 0. Rank 0 prints
// and writes; the others stay silent unless asked (--verbose).
int process_rank();

}  // namespace localsgd::core
