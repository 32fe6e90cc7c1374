// The communication seam over MPI (Open MPI): the ranks of MPI_COMM_WORLD each run
// their share of the K workers; sums are MPI_Allreduce.
//
// MPI is initialised on first use with MPI_THREAD_SERIALIZED — the engine makes its MPI
// calls from whichever thread ends a round, one call at a time — and finalised at exit.
// A fixed number of ranks sums in a fixed order, so a run is bitwise reproducible for a
// given rank count; against the threads backend (or another rank count) only the order
// of the workers' partial sums differs, which keeps models within 1e-12 (relative).
#pragma once

#include <cstdint>
#include <memory>

#include "communicator.hpp"
#include "localsgd/core/engine/backend.hpp"

namespace localsgd::core {

class MpiCommunicator final : public Communicator {
 public:
  // The process's communicator over MPI_COMM_WORLD (initialises MPI once).
  static MpiCommunicator& world();

  int rank() const override { return rank_; }
  int ranks() const override { return ranks_; }
  void sum(std::span<double> values) override;
  void sum_uncounted(std::span<double> values) override;
  // Each group's block is summed over the consecutive ranks that run its workers, on a
  // sub-communicator of just those ranks (made once per rank interval, collectively);
  // groups within one rank exchange nothing.
  void sum_groups(std::span<double> values, std::int64_t workers, std::int64_t group_size) override;
  std::vector<std::int32_t> union_of(std::span<const std::int32_t> indices) override;
  std::int64_t exchanges() const override { return exchanges_; }
  std::int64_t values_exchanged() const override { return values_; }
  bool all_ok(bool ok) override;
  void barrier() override;
  RoundVotes agree_and_vote(std::exception_ptr error, RoundVotes votes) override;
  std::vector<std::vector<std::byte>> gather(std::span<const std::byte> bytes) override;
  double exchange_seconds() const override { return seconds_; }
  // Ranks on this node (MPI_Comm_split_type, shared memory): they share its cores.
  int node_ranks() const { return node_ranks_; }
  // Whether the last agreement (agree, agree_and_vote) ended in an error: every rank then
  // stops with it.
  bool error_agreed() const { return error_agreed_; }
  void failing_together() override { error_agreed_ = true; }
  // Whether the ranks may still wait for one another in an exchange: from a run's start
  // until it returned. An error a rank meets alone then must end the job.
  bool exchanges_pending() const { return exchanges_pending_; }
  void set_exchanges_pending(bool pending) { exchanges_pending_ = pending; }

 private:
  MpiCommunicator();
  ~MpiCommunicator();
  struct SubCommunicators;  // by rank interval; defined with MPI's types in the .cpp

  int rank_ = 0, ranks_ = 1, node_ranks_ = 1;
  double seconds_ = 0;
  std::int64_t exchanges_ = 0, values_ = 0;
  std::unique_ptr<SubCommunicators> sub_;
  bool error_agreed_ = false;
  bool exchanges_pending_ = false;
};

}  // namespace localsgd::core
