// The cost of one Local SGD average over MPI: MPI_Allreduce (sum, in place) of d doubles,
// as the mpi backend does every round. Run under mpirun; rank 0 prints one JSON line per
// d: the median time of a round, rounds/s and the all-reduce bandwidth 8·d bytes / time
// (the algorithm moves more; this is the rate a run sees). bench/mpi.py drives it.
//
//   mpirun -np 2 build/bin/mpi_allreduce 1000 100000 10000000
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  for (int a = 1; a < argc; ++a) {
    const auto d = static_cast<std::size_t>(std::atof(argv[a]));
    std::vector<double> x(d, 1.0);
    // Enough rounds for ~0.5 s of work at 1 GB/s, at least 5.
    const int rounds =
        static_cast<int>(std::clamp(5e8 / (8.0 * static_cast<double>(d)), 5.0, 2000.0));
    std::vector<double> seconds;
    for (int r = 0; r < rounds + 2; ++r) {  // two warm-up rounds
      MPI_Barrier(MPI_COMM_WORLD);
      const auto start = std::chrono::steady_clock::now();
      MPI_Allreduce(MPI_IN_PLACE, x.data(), static_cast<int>(d), MPI_DOUBLE, MPI_SUM,
                    MPI_COMM_WORLD);
      const double s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (r >= 2) seconds.push_back(s);
    }
    // Every rank's time: a round ends when the slowest has its sum.
    double median = 0;
    std::sort(seconds.begin(), seconds.end());
    median = seconds[seconds.size() / 2];
    MPI_Allreduce(MPI_IN_PLACE, &median, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0)
      std::printf(
          "{\"ranks\":%d,\"d\":%zu,\"rounds\":%d,\"median_seconds\":%.9g,\"rounds_per_second\":%."
          "6g,\"gb_per_second\":%.6g}\n",
          ranks, d, rounds, median, 1.0 / median, 8.0 * static_cast<double>(d) / median / 1e9);
  }
  MPI_Finalize();
  return 0;
}
