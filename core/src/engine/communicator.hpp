// The communication seam: everything workers on different processes would exchange.
//
// A run has K logical workers spread over `ranks()` processes; this process runs the
// workers local_workers(K) and sums partial results with the others. The engine reduces
// its own workers in worker order first and then calls sum(), so with one process the
// arithmetic is exactly the in-process one, and a multi-process implementation (MPI
// all-reduce) plugs in without touching the engine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <span>
#include <vector>

namespace localsgd::core {

// What each process brings to a round's agreement besides its errors: a signal it
// received (SIGINT, SIGTERM) and whether its clock says a checkpoint is due. Every process
// leaves with the largest of each, so all stop, or save, at the same step.
struct RoundVotes {
  int interrupt = 0;
  bool checkpoint = false;
};

struct WorkerRange {
  std::int64_t begin, end;  // global worker ids [begin, end)
  std::int64_t size() const { return end - begin; }
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int ranks() const = 0;

  // The workers this process runs: rank r of R gets [floor(rK/R), floor((r+1)K/R)).
  WorkerRange local_workers(std::int64_t workers) const {
    const std::int64_t r = rank(), R = ranks();
    return {r * workers / R, (r + 1) * workers / R};
  }

  // The process that runs worker w (the inverse of local_workers).
  int rank_of(std::int64_t worker, std::int64_t workers) const {
    int r = 0;
    while ((r + 1) * workers / ranks() <= worker) ++r;
    return r;
  }

  // Replaces `values` by their sum over all processes, the same bits on every process.
  virtual void sum(std::span<double> values) = 0;
  // sum(), for what is not a round's exchange (an evaluation of f over rows spread across
  // processes, counts): left out of exchanges(), values_exchanged() and exchange_seconds(),
  // which measure the rounds.
  virtual void sum_uncounted(std::span<double> values) { sum(values); }
  // `values` holds one block per group of `group_size` consecutive workers (of `workers`);
  // replaces each block by its sum over the processes that run workers of that group.
  // Blocks of groups this process has no worker in are left as they are. A group within
  // one process needs no exchange at all (hierarchical averaging within a node).
  virtual void sum_groups(std::span<double> values, std::int64_t workers, std::int64_t group_size) {
    (void)workers, (void)group_size;
    sum(values);
  }
  // The sorted union of every process's sorted `indices` (the same on every process).
  virtual std::vector<std::int32_t> union_of(std::span<const std::int32_t> indices) {
    return {indices.begin(), indices.end()};
  }
  // Calls of sum_groups whose model data crossed processes so far (the same count on
  // every process): the inter-process rounds.
  virtual std::int64_t exchanges() const { return 0; }
  // Values this process has summed with the others so far (model data; indices and
  // status words aside).
  virtual std::int64_t values_exchanged() const { return 0; }
  // True when every process passes true: a process that failed says so, and all stop.
  virtual bool all_ok(bool ok) = 0;
  virtual void barrier() = 0;
  // Collective: returns when no process has an error. Otherwise every process throws: the
  // first failing one (lowest rank) its own error, the others a RankFailure with its exit
  // code and message, so that all stop together and exit alike.
  void agree(std::exception_ptr error) { agree_and_vote(error, {}); }
  // agree(), and in the same exchange the largest of every process's votes.
  virtual RoundVotes agree_and_vote(std::exception_ptr error, RoundVotes votes) = 0;
  // The error about to be thrown follows from values every process summed alike (a
  // non-finite average of all workers): every process throws it at the same point, so it
  // counts as agreed without an exchange.
  virtual void failing_together() {}
  // Collective: every process's `bytes`, in rank order, on process 0; nothing elsewhere.
  virtual std::vector<std::vector<std::byte>> gather(std::span<const std::byte> bytes) = 0;
  // Seconds spent in the exchanges (all-reduce and agreement) so far.
  virtual double exchange_seconds() const { return 0; }
};

// One process: all workers are local, and there is nothing to exchange.
class InProcessCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int ranks() const override { return 1; }
  void sum(std::span<double>) override {}
  bool all_ok(bool ok) override { return ok; }
  void barrier() override {}
  RoundVotes agree_and_vote(std::exception_ptr error, RoundVotes votes) override {
    if (error) std::rethrow_exception(error);
    return votes;
  }
  std::vector<std::vector<std::byte>> gather(std::span<const std::byte> bytes) override {
    return {std::vector<std::byte>(bytes.begin(), bytes.end())};
  }
};

}  // namespace localsgd::core
