// Where a run's K workers live: threads of this process, or MPI ranks (each with its
// share of the workers, threads inside). See README "Beyond one machine".
#pragma once

namespace localsgd::core {

enum class Backend { threads, mpi };

// This process's MPI rank once the mpi backend has started MPI, else 0. Rank 0 prints
// and writes; the others stay silent unless asked (--verbose).
int process_rank();
// This process's rank in an mpirun or srun launch, from the environment the launcher sets
// (known before MPI starts, and whatever the backend), or -1 when no launcher started it.
int launched_rank();
// The number of MPI ranks once the mpi backend has started MPI, else 1.
int process_count();

// Whether an error this process met stops every process: true unless MPI was started
// with several ranks, a run had not returned, and the ranks did not agree on the error
// (agree_on in train.cpp): the others may then wait for this one forever.
bool error_stops_every_rank();
// Ends the whole MPI job with `exit_code` (MPI_Abort): the last resort for an error the
// other ranks do not know of.
[[noreturn]] void abort_every_rank(int exit_code);

}  // namespace localsgd::core
