#include "lookalike/dist/world.h"

#include <chrono>
#include <cstdlib>
#include <mutex>

#ifdef LOOKALIKE_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace lookalike::dist {

namespace {

// An integer environment variable, `fallback` when unset; InvalidArgument when not an integer.
long env_int(const char* name, long fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  LOOKALIKE_CHECK_ARG(end && *end == '\0', "environment variable ", name,
                      " must be an integer, got '", v, "'");
  return x;
}

class SingleWorld final : public World {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void all_reduce_sum(std::vector<torch::Tensor>&, const char*) override {}
  void broadcast(torch::Tensor&, int root, const char* what) override {
    LOOKALIKE_CHECK_ARG(root == 0, what, ": broadcast from rank ", root, " in a 1-process run");
  }
  std::vector<torch::Tensor> all_gather(const torch::Tensor& t, const char*) override {
    return {t};
  }
  void barrier(const char*) override {}
};

#ifdef LOOKALIKE_HAVE_GLOO
class GlooWorld final : public World {
 public:
  explicit GlooWorld(const Launch& l) : launch_(l) {
    const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(l.timeout_s * 1000));
    try {
      c10d::TCPStoreOptions so;
      so.port = static_cast<uint16_t>(l.master_port);
      // Under torchrun of torch >= 2 the agent may already serve the store at MASTER_PORT
      // (TORCHELASTIC_USE_AGENT_STORE=True): every rank is then a client, as in torch's own
      // env:// rendezvous.
      const char* agent = std::getenv("TORCHELASTIC_USE_AGENT_STORE");
      so.isServer = l.rank == 0 && !(agent && std::string(agent) == "True");
      so.numWorkers = static_cast<size_t>(l.world_size);
      so.waitWorkers = true;
      so.timeout = timeout;
      auto store = c10::make_intrusive<c10d::TCPStore>(l.master_addr, so);
      auto options = c10d::ProcessGroupGloo::Options::create(timeout);
      const bool local = l.master_addr == "127.0.0.1" || l.master_addr == "localhost";
      options->devices.push_back(local
                                     ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                     : c10d::ProcessGroupGloo::createDefaultDevice());
      options->threads = 2;
      group_ = c10::make_intrusive<c10d::ProcessGroupGloo>(store, l.rank, l.world_size, options);
    } catch (const std::exception& e) {
      throw DistError(detail::concat("rank ", l.rank, " of ", l.world_size,
                                     ": no rendezvous with the other ranks at ", l.master_addr, ":",
                                     l.master_port, " within ", l.timeout_s,
                                     " s (LOOKALIKE_DIST_TIMEOUT): ", e.what()));
    }
  }
  int rank() const override { return launch_.rank; }
  int size() const override { return launch_.world_size; }

  void all_reduce_sum(std::vector<torch::Tensor>& tensors, const char* what) override {
    for (auto& t : tensors) {
      std::vector<torch::Tensor> one{t};
      wait(group_->allreduce(one), what);
    }
  }
  void broadcast(torch::Tensor& tensor, int root, const char* what) override {
    std::vector<torch::Tensor> one{tensor};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    wait(group_->broadcast(one, o), what);
  }
  std::vector<torch::Tensor> all_gather(const torch::Tensor& tensor, const char* what) override {
    LOOKALIKE_CHECK_ARG(tensor.dim() >= 1, what, ": all_gather needs a tensor [n, ...]");
    // Rows may differ per rank: gather the counts, pad to the largest, gather, trim.
    auto counts = gather_same(torch::tensor({tensor.size(0)}, torch::kLong), what);
    int64_t most = 0;
    for (auto& c : counts) most = std::max(most, c.item<int64_t>());
    auto shape = tensor.sizes().vec();
    shape[0] = most;
    auto padded = torch::zeros(shape, tensor.options());
    padded.narrow(0, 0, tensor.size(0)).copy_(tensor);
    auto all = gather_same(padded, what);
    for (size_t r = 0; r < all.size(); ++r) all[r] = all[r].narrow(0, 0, counts[r].item<int64_t>());
    return all;
  }
  void barrier(const char* what) override {
    auto token = torch::zeros({1}, torch::kInt);
    std::vector<torch::Tensor> one{token};
    wait(group_->allreduce(one), what);
  }

 private:
  std::vector<torch::Tensor> gather_same(const torch::Tensor& t, const char* what) {
    std::vector<std::vector<torch::Tensor>> out(1);
    for (int r = 0; r < size(); ++r) out[0].push_back(torch::empty_like(t));
    std::vector<torch::Tensor> in{t.contiguous()};
    wait(group_->allgather(out, in), what);
    return out[0];
  }
  template <class WorkPtr>
  void wait(const WorkPtr& work, const char* what) {
    try {
      work->wait();
    } catch (const std::exception& e) {
      throw DistError(detail::concat("rank ", rank(), " of ", size(), ": ", what,
                                     " failed: a peer process exited or did not answer within ",
                                     launch_.timeout_s, " s (LOOKALIKE_DIST_TIMEOUT): ", e.what()));
    }
  }
  Launch launch_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group_;
};
#endif

}  // namespace

Launch launch_from_env() {
  Launch l;
  l.world_size = static_cast<int>(env_int("WORLD_SIZE", 1));
  l.rank = static_cast<int>(env_int("RANK", 0));
  LOOKALIKE_CHECK_ARG(l.world_size >= 1, "WORLD_SIZE must be >= 1, got ", l.world_size);
  LOOKALIKE_CHECK_ARG(l.rank >= 0 && l.rank < l.world_size,
                      "RANK must be in [0, WORLD_SIZE = ", l.world_size, "), got ", l.rank);
  l.local_world_size = static_cast<int>(env_int("LOCAL_WORLD_SIZE", 1));
  LOOKALIKE_CHECK_ARG(l.local_world_size >= 1 && l.local_world_size <= l.world_size,
                      "LOCAL_WORLD_SIZE must be in [1, WORLD_SIZE = ", l.world_size, "], got ",
                      l.local_world_size);
  if (const char* a = std::getenv("MASTER_ADDR"); a && *a) l.master_addr = a;
  LOOKALIKE_CHECK_ARG(l.world_size == 1 || std::getenv("MASTER_PORT"),
                      "WORLD_SIZE = ", l.world_size, " needs MASTER_PORT (and MASTER_ADDR)");
  l.master_port = static_cast<int>(env_int("MASTER_PORT", l.master_port));
  LOOKALIKE_CHECK_ARG(l.master_port > 0 && l.master_port < 65536,
                      "MASTER_PORT must be a TCP port (1-65535), got ", l.master_port);
  if (const char* t = std::getenv("LOOKALIKE_DIST_TIMEOUT"); t && *t) {
    char* end = nullptr;
    l.timeout_s = std::strtod(t, &end);
    LOOKALIKE_CHECK_ARG(end && *end == '\0' && l.timeout_s > 0,
                        "LOOKALIKE_DIST_TIMEOUT must be seconds > 0, got '", t, "'");
  }
  return l;
}

bool have_gloo() {
#ifdef LOOKALIKE_HAVE_GLOO
  return true;
#else
  return false;
#endif
}

World& world() {
  static std::once_flag once;
  static std::unique_ptr<World> w;
  std::call_once(once, [] {
    const Launch l = launch_from_env();
    if (l.world_size == 1) {
      w = std::make_unique<SingleWorld>();
      return;
    }
#ifdef LOOKALIKE_HAVE_GLOO
    w = std::make_unique<GlooWorld>(l);
#else
    throw DistError(detail::concat("WORLD_SIZE = ", l.world_size,
                                   " but this lookalike was built without Gloo (libgloo-dev and "
                                   "torch's c10d headers), so it runs one process only"));
#endif
  });
  return *w;
}

void check_same(World& w, const std::string& text, const char* what) {
  if (w.size() == 1) return;
  auto bytes =
      torch::from_blob(const_cast<char*>(text.data()), {int64_t(text.size())}, torch::kUInt8);
  auto all = w.all_gather(text.empty() ? torch::zeros({0}, torch::kUInt8) : bytes.clone(), what);
  const auto as_text = [](const torch::Tensor& t) {
    if (t.numel() == 0) return std::string();
    return std::string(reinterpret_cast<const char*>(t.data_ptr<uint8_t>()), size_t(t.numel()));
  };
  const std::string mine = as_text(all[size_t(w.rank())]);
  for (size_t r = 0; r < all.size(); ++r) {
    if (as_text(all[r]) == mine) continue;
    throw DistError(detail::concat("rank ", w.rank(), " of ", w.size(), ": ", what,
                                   " differs between ranks; rank ", r, " has\n  ", as_text(all[r]),
                                   "\nand rank ", w.rank(), " has\n  ", mine));
  }
}

}  // namespace lookalike::dist
