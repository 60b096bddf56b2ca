// Google Benchmark: VectorIndex::search against the same FAISS index type called directly
// (same static FAISS, same data, same threads), and the fused exact engine against
// IndexFlatIP. Build with -DLOOKALIKE_BENCH=ON; run:
//   build/bench/bench_index --benchmark_min_time=1
// Compare VectorIndex/... with Faiss/... of the same batch size for the wrapper overhead.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "lookalike/index/knn.h"
#include "lookalike/index/vector_index.h"
#include "lookalike/util/threads.h"

#ifdef LOOKALIKE_HAVE_FAISS
#include <faiss/IndexFlat.h>
#include <faiss/IndexIVF.h>
#include <faiss/index_factory.h>
#endif

namespace {
constexpr int64_t kN = 100000, kD = 128, kQ = 4096, kNprobe = 16;

torch::Tensor unit(int64_t n, int64_t seed) {
  torch::manual_seed(seed);
  auto x = torch::randn({n, kD});
  return x / x.norm(2, 1, true);
}

const torch::Tensor& base() {
  static auto x = unit(kN, 1);
  return x;
}
const torch::Tensor& queries() {
  static auto q = unit(kQ, 2);
  return q;
}

#ifdef LOOKALIKE_HAVE_FAISS
faiss::Index& raw_ivf() {
  static std::unique_ptr<faiss::Index> index = [] {
    std::unique_ptr<faiss::Index> i(
        faiss::index_factory(kD, "IVF1024,Flat", faiss::METRIC_INNER_PRODUCT));
    i->train(kN, base().data_ptr<float>());
    i->add(kN, base().data_ptr<float>());
    dynamic_cast<faiss::IndexIVF*>(i.get())->nprobe = kNprobe;
    return i;
  }();
  return *index;
}

lookalike::index::VectorIndex& our_ivf() {
  static lookalike::index::VectorIndex index = [] {
    lookalike::index::IndexOptions o;
    o.spec = "IVF1024,Flat";
    lookalike::index::VectorIndex v(kD, o);
    v.train(base());
    v.add(base(), torch::arange(kN, torch::kLong));
    return v;
  }();
  return index;
}

void Faiss_IVF(benchmark::State& st) {
  const int64_t nq = st.range(0);
  auto& index = raw_ivf();
  std::vector<float> d(nq * 10);
  std::vector<faiss::Index::idx_t> l(nq * 10);
  for (auto _ : st) index.search(nq, queries().data_ptr<float>(), 10, d.data(), l.data());
  st.SetItemsProcessed(st.iterations() * nq);
}

void VectorIndex_IVF(benchmark::State& st) {
  const int64_t nq = st.range(0);
  auto& index = our_ivf();
  auto q = queries().slice(0, 0, nq);
  lookalike::index::SearchParams p;
  p.nprobe = kNprobe;
  for (auto _ : st) benchmark::DoNotOptimize(index.search(q, 10, p));
  st.SetItemsProcessed(st.iterations() * nq);
}

void FaissFlatIP_k10(benchmark::State& st) {
  faiss::IndexFlatIP index(kD);
  index.add(kN, base().data_ptr<float>());
  const int64_t nq = st.range(0);
  std::vector<float> d(nq * 10);
  std::vector<faiss::Index::idx_t> l(nq * 10);
  for (auto _ : st) index.search(nq, queries().data_ptr<float>(), 10, d.data(), l.data());
  st.counters["GFLOPs"] =
      benchmark::Counter(2.0 * nq * kN * kD * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(Faiss_IVF)->Arg(1)->Arg(1000)->UseRealTime();
BENCHMARK(VectorIndex_IVF)->Arg(1)->Arg(1000)->UseRealTime();
BENCHMARK(FaissFlatIP_k10)->Arg(kQ)->UseRealTime()->Unit(benchmark::kMillisecond);
#endif

void FusedKnn_k10(benchmark::State& st) {
  const int64_t nq = st.range(0);
  auto q = queries().slice(0, 0, nq);
  for (auto _ : st) benchmark::DoNotOptimize(lookalike::index::fused_knn(q, base(), 10));
  st.counters["GFLOPs"] =
      benchmark::Counter(2.0 * nq * kN * kD * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(FusedKnn_k10)->Arg(kQ)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  lookalike::util::set_threads(0);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
