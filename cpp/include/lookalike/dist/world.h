#pragma once
// The processes of one distributed run, as torchrun starts them: RANK, WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT (and LOCAL_WORLD_SIZE, the processes on this machine) from the environment. The
// collectives are torch's c10d (Gloo on the CPU: ProcessGroupGloo over a TCPStore rendezvous),
// created once per process on first use and kept until it exits. Every call is collective: all
// ranks make it in the same order. A peer that dies or stops answering makes each collective
// throw DistError within the timeout instead of hanging.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "lookalike/error.h"

namespace lookalike::dist {

/// A collective failed: a peer exited, timed out or disagrees (world size, options, data).
class DistError : public Error {
 public:
  using Error::Error;
};

/// What the environment says about this process.
struct Launch {
  int rank = 0;
  int world_size = 1;
  int local_world_size = 1;  // processes on this machine (threads are shared among them)
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  double timeout_s = 300;  // LOOKALIKE_DIST_TIMEOUT: seconds before a silent peer is an error
};

/// Reads RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, LOOKALIKE_DIST_TIMEOUT;
/// throws InvalidArgument naming the variable when one is malformed (RANK >= WORLD_SIZE, a port
/// out of range, WORLD_SIZE > 1 without MASTER_PORT, ...). Without WORLD_SIZE: one process.
Launch launch_from_env();

/// The communicator of this process's run (a single-process one when WORLD_SIZE is 1 or unset).
class World {
 public:
  virtual ~World() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  bool is_root() const { return rank() == 0; }

  /// Sums each tensor (CPU, contiguous) over the ranks in place.
  virtual void all_reduce_sum(std::vector<torch::Tensor>& tensors, const char* what) = 0;
  /// Rank `root`'s tensor (CPU, contiguous, same shape and dtype on every rank) on every rank.
  virtual void broadcast(torch::Tensor& tensor, int root, const char* what) = 0;
  /// Every rank's tensor [n_r, ...] (dtype and trailing shape the same on every rank; n_r may
  /// differ), in rank order.
  virtual std::vector<torch::Tensor> all_gather(const torch::Tensor& tensor, const char* what) = 0;
  virtual void barrier(const char* what) = 0;
};

/// Whether this build can run more than one process (torch's c10d with Gloo was found).
bool have_gloo();

/// The process-wide communicator, created from launch_from_env() on first call (a rendezvous
/// with the other ranks at MASTER_ADDR:MASTER_PORT).
World& world();

/// Checks that every rank holds the same `text` (options, a data fingerprint); throws DistError
/// naming `what` and the first rank that differs, with both texts.
void check_same(World& w, const std::string& text, const char* what);

}  // namespace lookalike::dist
