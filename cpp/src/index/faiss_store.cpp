// The FAISS store: any factory string. IVF indexes keep the external ids themselves
// (add_with_ids) and remove in place; flat-code indexes (Flat, PQ, SQ, LSH) are addressed by
// position, with a position -> id table that follows their order-preserving removal; graph
// indexes (HNSW) cannot remove, so VectorIndex keeps tombstones and calls rebuild().
#ifdef LOOKALIKE_HAVE_FAISS
#include <faiss/IVFlib.h>
#include <faiss/IndexFlatCodes.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/clone_index.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <faiss/utils/random.h>
#ifdef LOOKALIKE_HAVE_FAISS_GPU
#include <faiss/gpu/GpuCloner.h>
#include <faiss/gpu/StandardGpuResources.h>
#endif
#endif
#include <torch/torch.h>

#include <cstring>
#include <mutex>

#include "lookalike/error.h"
#include "lookalike/util/device.h"
#include "store.h"

namespace lookalike::index::detail {

#ifdef LOOKALIKE_HAVE_FAISS
namespace {

using faiss_idx = faiss::Index::idx_t;

// Runs a FAISS call, turning its exceptions into InvalidArgument with our context.
template <typename F>
auto guarded(const std::string& what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const faiss::FaissException& e) {
    throw InvalidArgument(::lookalike::detail::concat(what, ": FAISS says: ", e.msg));
  }
}

struct SetSelector : faiss::IDSelector {
  const std::unordered_set<int64_t>* set;
  explicit SetSelector(const std::unordered_set<int64_t>* s) : set(s) {}
  bool is_member(faiss_idx id) const override { return set->count(id) > 0; }
};

// Search parameters for the innermost index, wrapped once per IndexPreTransform layer.
struct ParamChain {
  faiss::SearchParametersIVF ivf;
  faiss::SearchParametersHNSW hnsw;
  std::vector<std::unique_ptr<faiss::SearchParametersPreTransform>> wraps;
  const faiss::SearchParameters* top = nullptr;
};

class FaissStore final : public Store {
 public:
  FaissStore(int64_t dim, const std::string& spec, const std::string& metric,
             const std::string& device)
      : dim_(dim), spec_(spec), metric_(metric) {
    set_device(device);
    const auto m = metric == "ip" ? faiss::METRIC_INNER_PRODUCT : faiss::METRIC_L2;
    try {
      index_.reset(faiss::index_factory(static_cast<int>(dim), spec.c_str(), m));
    } catch (const faiss::FaissException& e) {
      throw InvalidArgument(
          ::lookalike::detail::concat("index spec '", spec, "' is not a FAISS factory string ",
                                      "this build knows (dim ", dim, "): ", e.msg));
    }
    inspect();
  }

  FaissStore(int64_t dim, const std::string& spec, const std::string& metric,
             const std::string& device, const std::string& bytes)
      : dim_(dim), spec_(spec), metric_(metric) {
    set_device(device);
    uint64_t faiss_len = 0;
    LOOKALIKE_CHECK_FILE(bytes.size() >= sizeof faiss_len, "FAISS payload is truncated");
    std::memcpy(&faiss_len, bytes.data(), sizeof faiss_len);
    LOOKALIKE_CHECK_FILE(faiss_len <= bytes.size() - sizeof faiss_len,
                         "FAISS payload is truncated");
    faiss::VectorIOReader reader;
    reader.data.assign(bytes.begin() + sizeof faiss_len,
                       bytes.begin() + sizeof faiss_len + faiss_len);
    try {
      index_.reset(faiss::read_index(&reader));
    } catch (const faiss::FaissException& e) {
      throw FileError(
          ::lookalike::detail::concat("FAISS could not read the stored index: ", e.msg));
    }
    LOOKALIKE_CHECK_FILE(index_->d == dim, "stored FAISS index has dimension ", index_->d,
                         ", header says ", dim);
    inspect();
    const size_t off = sizeof faiss_len + faiss_len;
    const int64_t n = static_cast<int64_t>((bytes.size() - off) / sizeof(int64_t));
    LOOKALIKE_CHECK_FILE((bytes.size() - off) % sizeof(int64_t) == 0,
                         "FAISS payload id table is truncated");
    pos_ids_.resize(n);
    if (n > 0) std::memcpy(pos_ids_.data(), bytes.data() + off, n * sizeof(int64_t));
    LOOKALIKE_CHECK_FILE(ivf_ || n == index_->ntotal, "FAISS index holds ", index_->ntotal,
                         " vectors but its id table ", n);
    // ntotal is a header field: it must be what the lists hold (stored_ids sizes by it).
    if (ivf_) {
      size_t held = 0;
      for (size_t l = 0; l < ivf_->nlist; ++l) held += ivf_->invlists->list_size(l);
      LOOKALIKE_CHECK_FILE(index_->ntotal >= 0 && held == static_cast<size_t>(index_->ntotal),
                           "FAISS index says it holds ", index_->ntotal,
                           " vectors but its inverted lists hold ", held);
    }
  }

  bool is_trained() const override { return index_->is_trained; }

  void train(const torch::Tensor& x) override {
    guarded("training '" + spec_ + "' on " + std::to_string(x.size(0)) + " vectors",
            [&] { index_->train(x.size(0), x.data_ptr<float>()); });
    invalidate();
  }

  void add(const torch::Tensor& x, const torch::Tensor& ids) override {
    const std::string what = "adding to '" + spec_ + "'";
    if (ivf_) {
      guarded(what, [&] {
        index_->add_with_ids(x.size(0), x.data_ptr<float>(), ids.data_ptr<int64_t>());
      });
    } else {
      guarded(what, [&] { index_->add(x.size(0), x.data_ptr<float>()); });
      const int64_t* p = ids.data_ptr<int64_t>();
      pos_ids_.insert(pos_ids_.end(), p, p + ids.numel());
    }
    invalidate();
  }

  bool removes_in_place() const override { return ivf_ != nullptr || flat_codes_; }

  void remove(const std::unordered_set<int64_t>& drop) override {
    if (ivf_) {
      SetSelector sel(&drop);
      guarded("removing from '" + spec_ + "'", [&] { return index_->remove_ids(sel); });
    } else {
      std::unordered_set<int64_t> positions;
      std::vector<int64_t> kept;
      kept.reserve(pos_ids_.size());
      for (size_t i = 0; i < pos_ids_.size(); ++i) {
        if (drop.count(pos_ids_[i])) {
          positions.insert(static_cast<int64_t>(i));
        } else {
          kept.push_back(pos_ids_[i]);
        }
      }
      SetSelector sel(&positions);
      guarded("removing from '" + spec_ + "'", [&] { return index_->remove_ids(sel); });
      pos_ids_ = std::move(kept);  // flat-code removal keeps the order of what remains
    }
    invalidate();
  }

  int64_t stored() const override { return index_->ntotal; }

  torch::Tensor stored_ids() const override {
    if (!ivf_) return torch::tensor(pos_ids_, torch::kLong);
    std::vector<int64_t> out;
    out.reserve(index_->ntotal);
    for (size_t l = 0; l < ivf_->nlist; ++l) {
      const size_t n = ivf_->invlists->list_size(l);
      faiss::InvertedLists::ScopedIds ids(ivf_->invlists, l);
      out.insert(out.end(), ids.get(), ids.get() + n);
    }
    return torch::tensor(out, torch::kLong);
  }

  KnnResult search(const torch::Tensor& q, int64_t k, const SearchParams& p) const override {
    const int64_t nq = q.size(0);
    KnnResult out{torch::empty({nq, k}, torch::kFloat), torch::empty({nq, k}, torch::kLong)};
    ParamChain chain;
    params(p, chain);
    const faiss::Index* index = searcher();
    // FAISS 1.7.3 ignores SearchParametersHNSW::efSearch (measured: recall did not move from
    // ef 16 to 512), so an explicit ef_search is set on the graph for the call, under a lock
    // that serialises such calls (each search is itself parallel over queries).
    std::unique_lock<std::mutex> ef_lock;
    int saved_ef = 0;
    if (hnsw_ && p.ef_search > 0) {
      ef_lock = std::unique_lock<std::mutex>(ef_mutex_);
      saved_ef = hnsw_->hnsw.efSearch;
      const_cast<faiss::IndexHNSW*>(hnsw_)->hnsw.efSearch = static_cast<int>(p.ef_search);
    }
    struct Restore {
      const faiss::IndexHNSW* h;
      int ef;
      ~Restore() {
        if (h) const_cast<faiss::IndexHNSW*>(h)->hnsw.efSearch = ef;
      }
    } restore{ef_lock.owns_lock() ? hnsw_ : nullptr, saved_ef};
    guarded("searching '" + spec_ + "'", [&] {
      index->search(nq, q.data_ptr<float>(), k, out.scores.data_ptr<float>(),
                    out.indices.data_ptr<int64_t>(), chain.top);
    });
    to_ids(out.indices.data_ptr<int64_t>(), nq * k);
    return out;
  }

  RangeResult range_search(const torch::Tensor& q, float threshold,
                           const SearchParams& p) const override {
    const int64_t nq = q.size(0);
    const bool ip = metric_ == "ip";
    if (hnsw_) return range_by_knn(q, threshold, p);  // FAISS HNSW has no range search
    ParamChain chain;
    params(p, chain);
    faiss::RangeSearchResult res(nq);
    guarded("range search on '" + spec_ + "'",
            [&] { index_->range_search(nq, q.data_ptr<float>(), threshold, &res, chain.top); });
    const int64_t total = static_cast<int64_t>(res.lims[nq]);
    auto rows = torch::empty({total}, torch::kLong);
    auto rp = rows.data_ptr<int64_t>();
    for (int64_t i = 0; i < nq; ++i)
      for (size_t j = res.lims[i]; j < res.lims[i + 1]; ++j) rp[j] = i;
    auto scores = torch::from_blob(res.distances, {total}, torch::kFloat).clone();
    auto ids = torch::from_blob(res.labels, {total}, torch::kLong).clone();
    to_ids(ids.data_ptr<int64_t>(), total);
    return pack_range(nq, rows, scores, ids, ip);
  }

  void rebuild(const std::unordered_set<int64_t>& drop) override {
    if (ivf_) {  // IVF removes in place: rebuild only compacts
      remove(drop);
      return;
    }
    const int64_t n = index_->ntotal;
    std::vector<float> x;
    std::vector<int64_t> keep_ids;
    std::vector<float> all(static_cast<size_t>(n) * dim_);
    guarded("reconstructing '" + spec_ + "' for a rebuild",
            [&] { index_->reconstruct_n(0, n, all.data()); });
    x.reserve(all.size());
    for (int64_t i = 0; i < n; ++i) {
      if (drop.count(pos_ids_[i])) continue;
      x.insert(x.end(), all.begin() + i * dim_, all.begin() + (i + 1) * dim_);
      keep_ids.push_back(pos_ids_[i]);
    }
    std::unique_ptr<faiss::Index> fresh(
        guarded("cloning '" + spec_ + "'", [&] { return faiss::clone_index(index_.get()); }));
    fresh->reset();  // trained state (quantisers, transforms) kept, items dropped
    faiss::Index* inner = fresh.get();
    while (auto pt = dynamic_cast<faiss::IndexPreTransform*>(inner)) inner = pt->index;
    if (auto h = dynamic_cast<faiss::IndexHNSW*>(inner)) {
      // Levels are drawn from the graph's generator: restart it as a new index would (seed
      // 12345, FAISS's HNSW default) so a rebuild equals a build from scratch.
      h->hnsw.rng = faiss::RandomGenerator(12345);
    }
    guarded("re-adding to '" + spec_ + "'",
            [&] { fresh->add(static_cast<faiss_idx>(keep_ids.size()), x.data()); });
    index_ = std::move(fresh);
    pos_ids_ = std::move(keep_ids);
    inspect();
    invalidate();
  }

  std::string serialize() const override {
    faiss::VectorIOWriter writer;
    guarded("serialising '" + spec_ + "'", [&] { faiss::write_index(index_.get(), &writer); });
    const uint64_t len = writer.data.size();
    std::string out(reinterpret_cast<const char*>(&len), sizeof len);
    out.append(reinterpret_cast<const char*>(writer.data.data()), writer.data.size());
    out.append(reinterpret_cast<const char*>(pos_ids_.data()), pos_ids_.size() * sizeof(int64_t));
    return out;
  }

 private:
  void set_device(const std::string& device) {
    device_ = util::parse_device(device);
#ifndef LOOKALIKE_HAVE_FAISS_GPU
    LOOKALIKE_CHECK_ARG(device_.is_cpu(), "index spec '", spec_, "' on device '", device,
                        "' needs FAISS built with GPU support, which this build lacks; use ",
                        "device='cpu', or spec 'Flat' (the exact engine runs on CUDA)");
#endif
  }

  void inspect() {
    ivf_ = faiss::ivflib::try_extract_index_ivf(index_.get());
    const faiss::Index* inner = index_.get();
    while (auto pt = dynamic_cast<const faiss::IndexPreTransform*>(inner)) inner = pt->index;
    hnsw_ = dynamic_cast<const faiss::IndexHNSW*>(inner);
    flat_codes_ = dynamic_cast<const faiss::IndexFlatCodes*>(inner) != nullptr;
  }

  void params(const SearchParams& p, ParamChain& c) const {
    LOOKALIKE_CHECK_ARG(p.nprobe >= 0 && p.ef_search >= 0,
                        "search parameters must be >= 0 (nprobe ", p.nprobe, ", ef_search ",
                        p.ef_search, ")");
    LOOKALIKE_CHECK_ARG(p.nprobe == 0 || ivf_, "nprobe given, but index '", spec_,
                        "' is not an IVF index");
    LOOKALIKE_CHECK_ARG(p.ef_search == 0 || hnsw_, "ef_search given, but index '", spec_,
                        "' is not an HNSW index");
    const faiss::SearchParameters* inner = nullptr;
    if (ivf_) {
      c.ivf.nprobe = p.nprobe > 0 ? static_cast<size_t>(p.nprobe) : ivf_->nprobe;
      c.ivf.max_codes = ivf_->max_codes;
      inner = &c.ivf;
    } else if (hnsw_) {
      c.hnsw.efSearch = p.ef_search > 0 ? static_cast<int>(p.ef_search) : hnsw_->hnsw.efSearch;
      inner = &c.hnsw;
    }
    // One wrapper per IndexPreTransform between the top and the inner index.
    for (const faiss::Index* cur = index_.get(); inner;) {
      auto pt = dynamic_cast<const faiss::IndexPreTransform*>(cur);
      if (!pt) break;
      c.wraps.push_back(std::make_unique<faiss::SearchParametersPreTransform>());
      c.wraps.back()->index_params = const_cast<faiss::SearchParameters*>(inner);
      inner = c.wraps.back().get();
      cur = pt->index;
    }
    c.top = inner;
  }

  void to_ids(int64_t* labels, int64_t n) const {
    if (ivf_) return;  // IVF stores the external ids
    for (int64_t i = 0; i < n; ++i)
      if (labels[i] >= 0) labels[i] = pos_ids_[labels[i]];
  }

  // Range search by k-NN with a growing k, for indexes without native range search.
  RangeResult range_by_knn(const torch::Tensor& q, float threshold, const SearchParams& p) const {
    const int64_t nq = q.size(0), n = index_->ntotal;
    const bool ip = metric_ == "ip";
    std::vector<torch::Tensor> rows, scores, ids;
    for (int64_t i = 0; i < nq; ++i) {
      auto qi = q.slice(0, i, i + 1);
      for (int64_t k = std::min<int64_t>(64, n);; k = std::min(n, 4 * k)) {
        auto r = search(qi, k, p);
        auto s = r.scores[0], id = r.indices[0];
        auto pass = id.ge(0).logical_and(ip ? s.gt(threshold) : s.lt(threshold));
        const int64_t hits = pass.sum().item<int64_t>();
        if (hits < k || k == n) {
          auto sel = pass.nonzero().view(-1);
          rows.push_back(torch::full({sel.numel()}, i, torch::kLong));
          scores.push_back(s.index_select(0, sel));
          ids.push_back(id.index_select(0, sel));
          break;
        }
      }
    }
    return pack_range(nq, torch::cat(rows), torch::cat(scores), torch::cat(ids), ip);
  }

  const faiss::Index* searcher() const {
#ifdef LOOKALIKE_HAVE_FAISS_GPU
    if (device_.is_cuda()) {
      std::lock_guard<std::mutex> lock(gpu_mutex_);
      if (!gpu_index_) {  // the CPU index is the master copy; the GPU clone is a cache
        if (!gpu_res_) gpu_res_ = std::make_unique<faiss::gpu::StandardGpuResources>();
        gpu_index_.reset(guarded("copying '" + spec_ + "' to the GPU", [&] {
          return faiss::gpu::index_cpu_to_gpu(
              gpu_res_.get(), device_.index() < 0 ? 0 : device_.index(), index_.get());
        }));
      }
      return gpu_index_.get();
    }
#endif
    return index_.get();
  }

  void invalidate() {
#ifdef LOOKALIKE_HAVE_FAISS_GPU
    std::lock_guard<std::mutex> lock(gpu_mutex_);
    gpu_index_.reset();
#endif
  }

  int64_t dim_;
  std::string spec_, metric_;
  torch::Device device_{torch::kCPU};
  std::unique_ptr<faiss::Index> index_;
  const faiss::IndexIVF* ivf_ = nullptr;
  const faiss::IndexHNSW* hnsw_ = nullptr;
  bool flat_codes_ = false;
  mutable std::mutex ef_mutex_;   // guards the temporary efSearch of an explicit ef_search
  std::vector<int64_t> pos_ids_;  // non-IVF: external id of each stored position
#ifdef LOOKALIKE_HAVE_FAISS_GPU
  mutable std::mutex gpu_mutex_;
  mutable std::unique_ptr<faiss::gpu::StandardGpuResources> gpu_res_;
  mutable std::unique_ptr<faiss::Index> gpu_index_;
#endif
};

}  // namespace

std::unique_ptr<Store> make_faiss_store(int64_t dim, const std::string& spec,
                                        const std::string& metric, const std::string& device) {
  return std::make_unique<FaissStore>(dim, spec, metric, device);
}

std::unique_ptr<Store> load_faiss_store(int64_t dim, const std::string& spec,
                                        const std::string& metric, const std::string& device,
                                        const std::string& bytes) {
  return std::make_unique<FaissStore>(dim, spec, metric, device, bytes);
}

#else  // no FAISS in this build

std::unique_ptr<Store> make_faiss_store(int64_t, const std::string& spec, const std::string&,
                                        const std::string&) {
  throw InvalidArgument(::lookalike::detail::concat("index spec '", spec,
                                                    "' needs FAISS, which this build ",
                                                    "lacks; spec 'Flat' runs on the exact engine"));
}

std::unique_ptr<Store> load_faiss_store(int64_t, const std::string& spec, const std::string&,
                                        const std::string&, const std::string&) {
  throw FileError(::lookalike::detail::concat(
      "the saved index '", spec, "' is a FAISS index and this build ", "has no FAISS"));
}

#endif

}  // namespace lookalike::index::detail
