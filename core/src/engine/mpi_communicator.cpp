#include "mpi_communicator.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "localsgd/core/errors.hpp"

namespace localsgd::core {
namespace {

// MPI's own error handler aborts the job with its own message; ours throws, so that a
// failure of the transport is reported like any other (and the job still ends: a rank
// that exits makes mpirun stop the others).
void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw RuntimeFailure(std::string("MPI: ") + call + " failed: " + std::string(text, length));
}

class Stopwatch {
 public:
  explicit Stopwatch(double& total) : total_(total), start_(std::chrono::steady_clock::now()) {}
  ~Stopwatch() {
    total_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  double& total_;
  std::chrono::steady_clock::time_point start_;
};

bool initialised_here = false;

void finalise() {
  int finalised = 0;
  MPI_Finalized(&finalised);
  if (!finalised) MPI_Finalize();
}

}  // namespace

MpiCommunicator& MpiCommunicator::world() {
  static MpiCommunicator instance;
  return instance;
}

MpiCommunicator::MpiCommunicator() {
  int ready = 0;
  MPI_Initialized(&ready);
  if (!ready) {
    int provided = 0;
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
      throw RuntimeFailure("MPI: MPI_Init_thread failed (run under mpirun or srun)");
    initialised_here = true;
    std::atexit(finalise);
    if (provided < MPI_THREAD_SERIALIZED)
      throw RuntimeFailure("MPI: this MPI library offers no MPI_THREAD_SERIALIZED support");
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks_);
  MPI_Comm node;
  if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node) ==
      MPI_SUCCESS) {
    MPI_Comm_size(node, &node_ranks_);
    MPI_Comm_free(&node);
  }
}

namespace {

// Sums `values` over `comm` (in place); counts are ints in MPI, so large models go in chunks.
void sum_over(std::span<double> values, MPI_Comm comm) {
  constexpr std::size_t kChunk = std::size_t{1} << 30;
  for (std::size_t first = 0; first < values.size(); first += kChunk) {
    const int count = static_cast<int>(std::min(kChunk, values.size() - first));
    check(MPI_Allreduce(MPI_IN_PLACE, values.data() + first, count, MPI_DOUBLE, MPI_SUM, comm),
          "MPI_Allreduce");
  }
}

}  // namespace

struct MpiCommunicator::SubCommunicators {
  // Ranks [first, last] -> their communicator, MPI_COMM_NULL on ranks outside them.
  std::map<std::pair<int, int>, MPI_Comm> by_interval;
};

MpiCommunicator::~MpiCommunicator() = default;  // MPI_Finalize frees the communicators

void MpiCommunicator::sum(std::span<double> values) {
  const Stopwatch watch(seconds_);
  sum_over(values, MPI_COMM_WORLD);
  values_ += static_cast<std::int64_t>(values.size());
}

void MpiCommunicator::sum_uncounted(std::span<double> values) {
  sum_over(values, MPI_COMM_WORLD);
}

void MpiCommunicator::sum_groups(std::span<double> values, std::int64_t workers,
                                 std::int64_t group_size) {
  const std::int64_t groups = (workers + group_size - 1) / group_size;
  if (groups <= 1) {
    sum(values);
    ++exchanges_;
    return;
  }
  const Stopwatch watch(seconds_);
  const std::size_t block = values.size() / static_cast<std::size_t>(groups);
  std::vector<std::pair<int, int>> spans(static_cast<std::size_t>(groups));
  for (std::int64_t g = 0; g < groups; ++g)
    spans[static_cast<std::size_t>(g)] = {
        rank_of(g * group_size, workers),
        rank_of(std::min(workers, (g + 1) * group_size) - 1, workers)};
  // Every rank walks the same groups in the same order: the collective splits that make
  // missing communicators happen alike everywhere, before any sum.
  if (!sub_) sub_ = std::make_unique<SubCommunicators>();
  for (const auto& [first, last] : spans) {
    if (first == last || sub_->by_interval.count({first, last})) continue;
    MPI_Comm comm = MPI_COMM_NULL;
    const bool member = first <= rank_ && rank_ <= last;
    check(MPI_Comm_split(MPI_COMM_WORLD, member ? 0 : MPI_UNDEFINED, rank_, &comm),
          "MPI_Comm_split");
    if (comm != MPI_COMM_NULL) MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
    sub_->by_interval[{first, last}] = comm;
  }
  // Groups in increasing order on every rank: collectives on overlapping sub-communicators
  // are entered in one global order, so none can wait on another.
  bool crossed = false;
  for (std::int64_t g = 0; g < groups; ++g) {
    const auto [first, last] = spans[static_cast<std::size_t>(g)];
    if (first == last) continue;
    crossed = true;
    if (rank_ < first || rank_ > last) continue;
    sum_over(values.subspan(static_cast<std::size_t>(g) * block, block),
             sub_->by_interval.at({first, last}));
    values_ += static_cast<std::int64_t>(block);
  }
  if (crossed) ++exchanges_;
}

std::vector<std::int32_t> MpiCommunicator::union_of(std::span<const std::int32_t> indices) {
  const Stopwatch watch(seconds_);
  const int count = static_cast<int>(indices.size());
  std::vector<int> counts(static_cast<std::size_t>(ranks_)), offsets(counts.size());
  check(MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD),
        "MPI_Allgather");
  std::int64_t total = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    offsets[r] = static_cast<int>(total);
    total += counts[r];
    if (total > std::numeric_limits<int>::max())
      throw RuntimeFailure("MPI: more than 2^31 touched coordinates in one sync");
  }
  std::vector<std::int32_t> all(static_cast<std::size_t>(total));
  check(MPI_Allgatherv(indices.data(), count, MPI_INT32_T, all.data(), counts.data(),
                       offsets.data(), MPI_INT32_T, MPI_COMM_WORLD),
        "MPI_Allgatherv");
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

bool MpiCommunicator::all_ok(bool ok) {
  const Stopwatch watch(seconds_);
  int value = ok ? 1 : 0;
  check(MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD), "MPI_Allreduce");
  return value == 1;
}

void MpiCommunicator::barrier() {
  const Stopwatch watch(seconds_);
  check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

RoundVotes MpiCommunicator::agree_and_vote(std::exception_ptr error, RoundVotes votes) {
  // One all-reduce for all three: the lowest failing rank (MIN), and the largest votes as
  // the MIN of their negatives.
  int values[3] = {error ? rank_ : ranks_, -votes.interrupt, votes.checkpoint ? -1 : 0};
  {
    const Stopwatch watch(seconds_);
    check(MPI_Allreduce(MPI_IN_PLACE, values, 3, MPI_INT, MPI_MIN, MPI_COMM_WORLD),
          "MPI_Allreduce");
  }
  const int first = values[0];
  error_agreed_ = first != ranks_;
  if (!error_agreed_) return {-values[1], values[2] != 0};
  // The first failing rank tells the others its exit code and message.
  ErrorReport report{0, ""};
  if (rank_ == first) {
    try {
      std::rethrow_exception(error);
    } catch (...) {
      report = describe_current_exception();
    }
  }
  int header[2] = {report.exit_code, static_cast<int>(report.message.size())};
  check(MPI_Bcast(header, 2, MPI_INT, first, MPI_COMM_WORLD), "MPI_Bcast");
  std::vector<char> text(static_cast<std::size_t>(header[1]));
  if (rank_ == first) text.assign(report.message.begin(), report.message.end());
  check(MPI_Bcast(text.data(), header[1], MPI_CHAR, first, MPI_COMM_WORLD), "MPI_Bcast");
  if (rank_ == first) std::rethrow_exception(error);
  throw RankFailure(header[0], "rank " + std::to_string(first) + " of " + std::to_string(ranks_) +
                                   ": " + std::string(text.begin(), text.end()));
}

std::vector<std::vector<std::byte>> MpiCommunicator::gather(std::span<const std::byte> bytes) {
  // Point to point, rank by rank, in chunks: a rank's share of a checkpoint may pass the
  // 2 GB that one MPI count can describe.
  constexpr std::size_t kChunk = std::size_t{1} << 30;
  const Stopwatch watch(seconds_);
  auto transfer = [&](std::byte* data, std::size_t size, int peer, bool send) {
    for (std::size_t first = 0; first < size; first += kChunk) {
      const int count = static_cast<int>(std::min(kChunk, size - first));
      if (send)
        check(MPI_Send(data + first, count, MPI_BYTE, peer, 0, MPI_COMM_WORLD), "MPI_Send");
      else
        check(MPI_Recv(data + first, count, MPI_BYTE, peer, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
              "MPI_Recv");
    }
  };
  if (rank_ != 0) {
    std::uint64_t size = bytes.size();
    check(MPI_Send(&size, 1, MPI_UINT64_T, 0, 0, MPI_COMM_WORLD), "MPI_Send");
    transfer(const_cast<std::byte*>(bytes.data()), bytes.size(), 0, true);
    return {};
  }
  std::vector<std::vector<std::byte>> all(static_cast<std::size_t>(ranks_));
  all[0].assign(bytes.begin(), bytes.end());
  for (int r = 1; r < ranks_; ++r) {
    std::uint64_t size = 0;
    check(MPI_Recv(&size, 1, MPI_UINT64_T, r, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
    std::vector<std::byte>& part = all[static_cast<std::size_t>(r)];
    part.resize(size);
    transfer(part.data(), part.size(), r, false);
  }
  return all;
}

int process_rank() {
  if (!initialised_here) return 0;
  return MpiCommunicator::world().rank();
}

int launched_rank() {
  for (const char* variable : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"})
    if (const char* rank = std::getenv(variable); rank != nullptr) return std::atoi(rank);
  return -1;
}

int process_count() {
  if (!initialised_here) return 1;
  return MpiCommunicator::world().ranks();
}

bool error_stops_every_rank() {
  if (!initialised_here) return true;
  const MpiCommunicator& world = MpiCommunicator::world();
  return world.ranks() == 1 || world.error_agreed() || !world.exchanges_pending();
}

void abort_every_rank(int exit_code) {
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);  // MPI_Abort does not return
}

}  // namespace localsgd::core
