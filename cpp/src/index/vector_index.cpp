#include "lookalike/index/vector_index.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <unordered_set>

#include "lookalike/error.h"
#include "lookalike/util/blob.h"
#include "lookalike/util/device.h"
#include "store.h"

namespace lookalike::index {

namespace {

const std::string kIndexMagic("LOOKALIKE-INDEX\n", 16);
const std::string kLogMagic("LOOKALIKE-ULOG1\n", 16);
constexpr int kIndexFormat = 1;

torch::Tensor check_ids(const torch::Tensor& ids, const char* what) {
  LOOKALIKE_CHECK_ARG(ids.defined() && ids.dim() == 1, what, " must be a 1-d int64 tensor");
  LOOKALIKE_CHECK_ARG(ids.scalar_type() == torch::kLong, what, " must be int64, got ",
                      ids.scalar_type());
  auto c = ids.to(torch::kCPU).contiguous();
  if (c.numel() > 0) {
    const int64_t lo = c.min().item<int64_t>();
    LOOKALIKE_CHECK_ARG(lo >= 0, what, " must be >= 0 (-1 marks 'no result'), got ", lo);
  }
  return c;
}

// Throws unless ids has no repeated value.
void check_unique(const torch::Tensor& ids, const char* what) {
  std::unordered_set<int64_t> seen;
  seen.reserve(ids.numel());
  const int64_t* p = ids.data_ptr<int64_t>();
  for (int64_t i = 0; i < ids.numel(); ++i)
    LOOKALIKE_CHECK_ARG(seen.insert(p[i]).second, what, " repeats id ", p[i]);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
struct VectorIndex::Impl {
  int64_t dim;
  IndexOptions options;
  std::string backend;  // resolved
  std::unique_ptr<detail::Store> store;
  std::unordered_set<int64_t> live;  // ids a search may return
  std::unordered_set<int64_t> dead;  // stored but removed (stores without in-place removal)

  torch::Tensor vectors_for(const torch::Tensor& x, const char* what) const {
    check_vectors(x, what);
    LOOKALIKE_CHECK_ARG(x.size(1) == dim, what, " has dimension ", x.size(1), " but the index has ",
                        dim);
    return x.to(torch::kCPU).contiguous();
  }

  void check_addable(const torch::Tensor& ids, const std::unordered_set<int64_t>& present) const {
    const int64_t* p = ids.data_ptr<int64_t>();
    for (int64_t i = 0; i < ids.numel(); ++i)
      LOOKALIKE_CHECK_ARG(!present.count(p[i]), "add: id ", p[i], " is already in the index");
  }

  void do_add(const torch::Tensor& x, const torch::Tensor& ids) {
    LOOKALIKE_CHECK_ARG(store->is_trained(), "add: index '", options.spec,
                        "' must be trained first (call train)");
    // Re-adding an id that is still stored as a tombstone: purge the tombstones first.
    const int64_t* p = ids.data_ptr<int64_t>();
    for (int64_t i = 0; i < ids.numel() && !dead.empty(); ++i)
      if (dead.count(p[i])) rebuild();
    store->add(x, ids);
    live.insert(p, p + ids.numel());
  }

  void do_remove(const std::unordered_set<int64_t>& ids) {
    if (ids.empty()) return;
    for (auto id : ids) live.erase(id);
    if (store->removes_in_place()) {
      store->remove(ids);
    } else {
      dead.insert(ids.begin(), ids.end());
    }
  }

  bool needs_rebuild() const {
    return !dead.empty() &&
           double(dead.size()) > options.rebuild_fraction * double(store->stored());
  }

  void rebuild() {
    store->rebuild(dead);
    dead.clear();
  }

  // Searches, dropping tombstones: asks for more than k while dead items fill the lists.
  KnnResult search(const torch::Tensor& q, int64_t k, const SearchParams& p) const {
    const int64_t stored = store->stored();
    if (dead.empty() || stored == 0) return store->search(q, k, p);
    const int64_t nq = q.size(0);
    KnnResult out{torch::empty({nq, k}, torch::kFloat), torch::full({nq, k}, -1, torch::kLong)};
    auto os = out.scores.accessor<float, 2>();
    auto oi = out.indices.accessor<int64_t, 2>();
    std::vector<int64_t> todo(nq);
    for (int64_t i = 0; i < nq; ++i) todo[i] = i;
    int64_t kk =
        std::min(stored, k + std::min<int64_t>(int64_t(dead.size()), std::max<int64_t>(k, 16)));
    while (!todo.empty()) {
      auto rows = torch::tensor(todo, torch::kLong);
      auto r = store->search(q.index_select(0, rows), kk, p);
      auto rs = r.scores.accessor<float, 2>();
      auto ri = r.indices.accessor<int64_t, 2>();
      std::vector<int64_t> again;
      for (size_t t = 0; t < todo.size(); ++t) {
        int64_t w = 0;
        bool exhausted = false;
        for (int64_t c = 0; c < kk && w < k; ++c) {
          const int64_t id = ri[t][c];
          if (id < 0) {
            exhausted = true;
            break;
          }
          if (dead.count(id)) continue;
          os[todo[t]][w] = rs[t][c];
          oi[todo[t]][w] = id;
          ++w;
        }
        if (w < k && !exhausted && kk < stored) again.push_back(todo[t]);
      }
      todo.swap(again);
      kk = std::min(stored, 2 * kk);
    }
    return out;
  }
};

// ---------------------------------------------------------------------------------------------
VectorIndex::VectorIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VectorIndex::~VectorIndex() = default;
VectorIndex::VectorIndex(VectorIndex&&) noexcept = default;
VectorIndex& VectorIndex::operator=(VectorIndex&&) noexcept = default;

namespace {
std::string resolve_backend(const IndexOptions& o) {
  LOOKALIKE_CHECK_ARG(o.backend == "auto" || o.backend == "engine" || o.backend == "faiss",
                      "index backend must be 'auto', 'engine' or 'faiss', got '", o.backend, "'");
  if (o.backend != "auto") {
    LOOKALIKE_CHECK_ARG(o.backend != "engine" || o.spec == "Flat",
                        "backend 'engine' serves spec 'Flat' only, got '", o.spec, "'");
    return o.backend;
  }
  if (o.spec == "Flat") return "engine";
  return "faiss";
}

void check_options(int64_t dim, const IndexOptions& o) {
  LOOKALIKE_CHECK_ARG(dim > 0, "index dimension must be > 0, got ", dim);
  LOOKALIKE_CHECK_ARG(o.metric == "ip" || o.metric == "l2", "index metric must be 'ip' or 'l2', ",
                      "got '", o.metric, "'");
  LOOKALIKE_CHECK_ARG(o.rebuild_fraction >= 0 && o.rebuild_fraction <= 1,
                      "rebuild_fraction must be in [0, 1], got ", o.rebuild_fraction);
  LOOKALIKE_CHECK_ARG(!o.spec.empty(), "index spec is empty");
  util::parse_device(o.device);  // throws on an unknown or missing device
}
}  // namespace

VectorIndex::VectorIndex(int64_t dim, IndexOptions options) : impl_(std::make_unique<Impl>()) {
  check_options(dim, options);
  impl_->dim = dim;
  impl_->backend = resolve_backend(options);
  impl_->store = impl_->backend == "engine"
                     ? detail::make_engine_store(dim, options.metric, options.device)
                     : detail::make_faiss_store(dim, options.spec, options.metric, options.device);
  impl_->options = std::move(options);
}

int64_t VectorIndex::dim() const { return impl_->dim; }
const IndexOptions& VectorIndex::options() const { return impl_->options; }
std::string VectorIndex::backend() const { return impl_->backend; }
int64_t VectorIndex::size() const { return static_cast<int64_t>(impl_->live.size()); }
int64_t VectorIndex::dead() const { return static_cast<int64_t>(impl_->dead.size()); }
bool VectorIndex::is_trained() const { return impl_->store->is_trained(); }
bool VectorIndex::removes_in_place() const { return impl_->store->removes_in_place(); }
bool VectorIndex::contains(int64_t id) const { return impl_->live.count(id) > 0; }

torch::Tensor VectorIndex::ids() const {
  auto all = impl_->store->stored_ids();
  if (impl_->dead.empty()) return all;
  std::vector<int64_t> out;
  const int64_t* p = all.data_ptr<int64_t>();
  for (int64_t i = 0; i < all.numel(); ++i)
    if (!impl_->dead.count(p[i])) out.push_back(p[i]);
  return torch::tensor(out, torch::kLong);
}

void VectorIndex::train(const torch::Tensor& x) {
  impl_->store->train(impl_->vectors_for(x, "train: vectors"));
}

void VectorIndex::add(const torch::Tensor& x, const torch::Tensor& ids) {
  auto xc = impl_->vectors_for(x, "add: vectors");
  auto ic = check_ids(ids, "add: ids");
  LOOKALIKE_CHECK_ARG(ic.numel() == xc.size(0), "add: ", xc.size(0), " vectors but ", ic.numel(),
                      " ids");
  check_unique(ic, "add: ids");
  impl_->check_addable(ic, impl_->live);
  impl_->do_add(xc, ic);
}

int64_t VectorIndex::remove(const torch::Tensor& ids) {
  auto ic = check_ids(ids, "remove: ids");
  std::unordered_set<int64_t> drop;
  const int64_t* p = ic.data_ptr<int64_t>();
  for (int64_t i = 0; i < ic.numel(); ++i) {
    LOOKALIKE_CHECK_ARG(impl_->live.count(p[i]), "remove: id ", p[i], " is not in the index");
    drop.insert(p[i]);
  }
  impl_->do_remove(drop);
  if (impl_->needs_rebuild()) impl_->rebuild();
  return static_cast<int64_t>(drop.size());
}

namespace {
void fill_missing(KnnResult& r, const std::string& metric) {
  const float none = metric == "ip" ? -std::numeric_limits<float>::infinity()
                                    : std::numeric_limits<float>::infinity();
  float* s = r.scores.data_ptr<float>();
  const int64_t* id = r.indices.data_ptr<int64_t>();
  for (int64_t i = 0, n = r.indices.numel(); i < n; ++i)
    if (id[i] < 0) s[i] = none;
}
}  // namespace

KnnResult VectorIndex::search(const torch::Tensor& query, int64_t k,
                              const SearchParams& params) const {
  auto q = impl_->vectors_for(query, "search: query");
  LOOKALIKE_CHECK_ARG(k >= 1, "search: k must be >= 1, got ", k);
  LOOKALIKE_CHECK_ARG(!impl_->live.empty(), "search: the index is empty");
  auto r = impl_->search(q, k, params);
  fill_missing(r, impl_->options.metric);
  return r;
}

RangeResult VectorIndex::range_search(const torch::Tensor& query, float threshold,
                                      const SearchParams& params) const {
  auto q = impl_->vectors_for(query, "range_search: query");
  LOOKALIKE_CHECK_ARG(std::isfinite(threshold), "range_search: threshold must be finite");
  LOOKALIKE_CHECK_ARG(!impl_->live.empty(), "range_search: the index is empty");
  auto r = impl_->store->range_search(q, threshold, params);
  if (impl_->dead.empty()) return r;
  // Drop tombstones and recount each query's block.
  const int64_t nq = q.size(0);
  const int64_t* lp = r.lims.data_ptr<int64_t>();
  const int64_t* ip = r.ids.data_ptr<int64_t>();
  std::vector<int64_t> keep, lims{0};
  for (int64_t i = 0; i < nq; ++i) {
    for (int64_t j = lp[i]; j < lp[i + 1]; ++j)
      if (!impl_->dead.count(ip[j])) keep.push_back(j);
    lims.push_back(static_cast<int64_t>(keep.size()));
  }
  auto sel = torch::tensor(keep, torch::kLong);
  return RangeResult{torch::tensor(lims, torch::kLong), r.scores.index_select(0, sel),
                     r.ids.index_select(0, sel)};
}

void VectorIndex::rebuild() { impl_->rebuild(); }

ApplyReport VectorIndex::apply(const UpdateLog& log) {
  // Validate the whole log against a simulated id set before touching the index.
  std::unordered_set<int64_t> present = impl_->live;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> prepared;
  for (size_t n = 0; n < log.ops().size(); ++n) {
    const auto& op = log.ops()[n];
    const std::string where = "update log op " + std::to_string(n);
    if (op.add) {
      auto x = impl_->vectors_for(op.vectors, (where + " (add): vectors").c_str());
      const int64_t* p = op.ids.data_ptr<int64_t>();
      for (int64_t i = 0; i < op.ids.numel(); ++i)
        LOOKALIKE_CHECK_ARG(present.insert(p[i]).second, where, " (add): id ", p[i],
                            " is already in the index");
      prepared.emplace_back(x, op.ids);
    } else {
      const int64_t* p = op.ids.data_ptr<int64_t>();
      for (int64_t i = 0; i < op.ids.numel(); ++i)
        LOOKALIKE_CHECK_ARG(present.erase(p[i]) == 1, where, " (remove): id ", p[i],
                            " is not in the index");
      prepared.emplace_back(torch::Tensor(), op.ids);
    }
  }
  LOOKALIKE_CHECK_ARG(log.num_added() == 0 || impl_->store->is_trained(), "update log adds to '",
                      impl_->options.spec, "', which is not trained");
  ApplyReport report;
  for (auto& [x, ids] : prepared) {
    if (x.defined()) {
      impl_->do_add(x, ids);
      report.added += ids.numel();
    } else {
      const int64_t* p = ids.data_ptr<int64_t>();
      impl_->do_remove(std::unordered_set<int64_t>(p, p + ids.numel()));
      report.removed += ids.numel();
    }
  }
  if (impl_->needs_rebuild()) {
    impl_->rebuild();
    report.rebuilt = true;
  }
  return report;
}

void VectorIndex::save(const std::string& path) const {
  nlohmann::json h;
  h["format"] = kIndexFormat;
  h["dim"] = impl_->dim;
  h["spec"] = impl_->options.spec;
  h["metric"] = impl_->options.metric;
  h["backend"] = impl_->backend;
  h["rebuild_fraction"] = impl_->options.rebuild_fraction;
  h["size"] = size();
  util::Blob blob;
  blob.header = h.dump();
  blob.sections.push_back(impl_->store->serialize());
  std::vector<int64_t> dead(impl_->dead.begin(), impl_->dead.end());
  blob.sections.emplace_back(reinterpret_cast<const char*>(dead.data()),
                             dead.size() * sizeof(int64_t));
  util::write_blob(path, kIndexMagic, blob);
}

VectorIndex VectorIndex::load(const std::string& path, const std::string& device) {
  return guard_file_read(path, "saved index", [&] {
    auto blob = util::read_blob(path, kIndexMagic);
    nlohmann::json h;
    try {
      h = nlohmann::json::parse(blob.header);
    } catch (const std::exception& e) {
      throw FileError(::lookalike::detail::concat("'", path, "': unreadable header: ", e.what()));
    }
    LOOKALIKE_CHECK_FILE(h.value("format", 0) == kIndexFormat && blob.sections.size() == 2, "'",
                         path, "' has index format ", h.value("format", 0), ", this build reads ",
                         kIndexFormat);
    auto impl = std::make_unique<Impl>();
    impl->dim = h.at("dim").get<int64_t>();
    impl->options.spec = h.at("spec").get<std::string>();
    impl->options.metric = h.at("metric").get<std::string>();
    impl->options.rebuild_fraction = h.at("rebuild_fraction").get<double>();
    impl->options.device = device;
    impl->backend = h.at("backend").get<std::string>();
    impl->options.backend = impl->backend;
    check_options(impl->dim, impl->options);
    impl->store =
        impl->backend == "engine"
            ? detail::load_engine_store(impl->dim, impl->options.metric, device, blob.sections[0])
            : detail::load_faiss_store(impl->dim, impl->options.spec, impl->options.metric, device,
                                       blob.sections[0]);
    const auto& d = blob.sections[1];
    LOOKALIKE_CHECK_FILE(d.size() % sizeof(int64_t) == 0, "'", path, "': bad tombstone table");
    const int64_t* dp = reinterpret_cast<const int64_t*>(d.data());
    impl->dead.insert(dp, dp + d.size() / sizeof(int64_t));
    auto all = impl->store->stored_ids();
    const int64_t* ap = all.data_ptr<int64_t>();
    for (int64_t i = 0; i < all.numel(); ++i)
      if (!impl->dead.count(ap[i])) impl->live.insert(ap[i]);
    LOOKALIKE_CHECK_FILE(int64_t(impl->live.size()) == h.at("size").get<int64_t>(), "'", path,
                         "' holds ", impl->live.size(), " items, its header says ",
                         h.at("size").get<int64_t>());
    return VectorIndex(std::move(impl));
  });
}

int64_t VectorIndex::memory_bytes() const {
  return static_cast<int64_t>(impl_->store->serialize().size());
}

// ---------------------------------------------------------------------------------------------
void UpdateLog::add(const torch::Tensor& vectors, const torch::Tensor& ids) {
  check_vectors(vectors, "update log add: vectors");
  auto ic = check_ids(ids, "update log add: ids");
  LOOKALIKE_CHECK_ARG(ic.numel() == vectors.size(0), "update log add: ", vectors.size(0),
                      " vectors but ", ic.numel(), " ids");
  for (const auto& op : ops_)
    if (op.add)
      LOOKALIKE_CHECK_ARG(op.vectors.size(1) == vectors.size(1), "update log add: dimension ",
                          vectors.size(1), " differs from the log's ", op.vectors.size(1));
  check_unique(ic, "update log add: ids");
  ops_.push_back(Op{true, vectors.to(torch::kCPU).contiguous().clone(), ic.clone()});
}

void UpdateLog::remove(const torch::Tensor& ids) {
  auto ic = check_ids(ids, "update log remove: ids");
  check_unique(ic, "update log remove: ids");
  ops_.push_back(Op{false, torch::Tensor(), ic.clone()});
}

int64_t UpdateLog::num_added() const {
  int64_t n = 0;
  for (const auto& op : ops_)
    if (op.add) n += op.ids.numel();
  return n;
}

int64_t UpdateLog::num_removed() const {
  int64_t n = 0;
  for (const auto& op : ops_)
    if (!op.add) n += op.ids.numel();
  return n;
}

void UpdateLog::save(const std::string& path) const {
  nlohmann::json h = nlohmann::json::array();
  util::Blob blob;
  for (const auto& op : ops_) {
    h.push_back({{"op", op.add ? "add" : "remove"},
                 {"n", op.ids.numel()},
                 {"dim", op.add ? op.vectors.size(1) : 0}});
    blob.sections.push_back(detail::tensor_bytes(op.ids));
    if (op.add) blob.sections.push_back(detail::tensor_bytes(op.vectors));
  }
  blob.header = h.dump();
  util::write_blob(path, kLogMagic, blob);
}

UpdateLog UpdateLog::load(const std::string& path) {
  return guard_file_read(path, "update log", [&] {
    auto blob = util::read_blob(path, kLogMagic);
    UpdateLog log;
    try {
      auto h = nlohmann::json::parse(blob.header);
      size_t s = 0;
      for (const auto& e : h) {
        const bool add = e.at("op").get<std::string>() == "add";
        const int64_t n = e.at("n").get<int64_t>(), d = e.at("dim").get<int64_t>();
        LOOKALIKE_CHECK_FILE(s + (add ? 2 : 1) <= blob.sections.size(), "missing sections");
        auto ids = detail::tensor_from_bytes(blob.sections[s++], 0, n, torch::kLong);
        torch::Tensor x;
        if (add)
          x = detail::tensor_from_bytes(blob.sections[s++], 0, n * d, torch::kFloat).view({n, d});
        log.ops_.push_back(Op{add, x, ids});
      }
    } catch (const std::exception& e) {  // lookalike's errors and the JSON library's alike
      throw FileError(
          ::lookalike::detail::concat("'", path, "' is not a valid update log: ", e.what()));
    }
    return log;
  });
}

}  // namespace lookalike::index
