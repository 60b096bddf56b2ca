// lookalike._core.dist: the ranks of a distributed run (dist/world.h) and search over an index
// sharded across them (dist/sharded_search.h). Collectives release the GIL.
#include "bindings.h"
#include "lookalike/dist/sharded_search.h"
#include "lookalike/dist/world.h"

namespace lookalike::python {

void bind_dist(py::module_& m) {
  auto d = m.def_submodule("dist", "ranks of a distributed run; sharded search");
  using index::VectorIndex;
  const auto release = py::call_guard<py::gil_scoped_release>();
  d.def(
      "launch",
      [] {
        const auto l = dist::launch_from_env();
        py::dict r;
        r["rank"] = l.rank, r["world_size"] = l.world_size,
        r["local_world_size"] = l.local_world_size;
        r["master_addr"] = l.master_addr, r["master_port"] = l.master_port;
        r["timeout_s"] = l.timeout_s;
        return r;
      },
      "What the environment says about this process (RANK, WORLD_SIZE, ...), without joining.");
  d.def(
      "init",
      [] {
        dist::World* w = nullptr;
        {
          py::gil_scoped_release no_gil;  // the rendezvous waits for the other ranks
          w = &dist::world();
        }
        return py::make_tuple(w->rank(), w->size());
      },
      "Joins the run's ranks (once per process); (rank, world size).");
  d.def(
      "barrier", [] { dist::world().barrier("barrier"); }, release);
  d.def("shard_rows", &dist::shard_rows, py::arg("ids"), py::arg("rank"), py::arg("size"));
  d.def(
      "merge_topk",
      [](const std::vector<torch::Tensor>& scores, const std::vector<torch::Tensor>& ids, int64_t k,
         const std::string& metric) {
        auto r = dist::merge_topk(scores, ids, k, metric);
        return std::make_tuple(r.scores, r.indices);
      },
      py::arg("scores"), py::arg("ids"), py::arg("k"), py::arg("metric"), release);
  d.def(
      "sharded_search",
      [](const VectorIndex& shard, const torch::Tensor& queries, int64_t k,
         const index::SearchParams& p) {
        auto r = dist::sharded_search(dist::world(), shard, queries, k, p);
        return std::make_tuple(r.scores, r.indices);
      },
      py::arg("shard"), py::arg("queries"), py::arg("k"), py::arg("params"), release);
  d.def(
      "save_shard",
      [](const VectorIndex& shard, const std::string& prefix) {
        dist::save_shard(dist::world(), shard, prefix);
      },
      py::arg("shard"), py::arg("prefix"), release);
  d.def(
      "load_shard",
      [](const std::string& prefix, const std::string& device) {
        return dist::load_shard(dist::world(), prefix, device);
      },
      py::arg("prefix"), py::arg("device") = "cpu", release);
}

}  // namespace lookalike::python
