// The engine store: vectors in one growing tensor on the CPU or a CUDA device, searched by the
// exact kNN engine (fused on CPU, tiled torch GEMM + top-k on CUDA), range search by tiled GEMM.
#include <torch/torch.h>

#include <cstring>

#include "lookalike/error.h"
#include "lookalike/util/device.h"
#include "store.h"

namespace lookalike::index::detail {

std::string tensor_bytes(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU).contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
}

torch::Tensor tensor_from_bytes(const std::string& bytes, size_t offset, int64_t numel,
                                torch::ScalarType type) {
  // Checked before allocating: the count comes from the file.
  const size_t element = c10::elementSize(type);
  LOOKALIKE_CHECK_FILE(numel >= 0 && offset <= bytes.size() &&
                           static_cast<uint64_t>(numel) <= (bytes.size() - offset) / element,
                       "index payload is truncated (", bytes.size(), " bytes, ", numel,
                       " values of ", element, " bytes expected from byte ", offset, ")");
  auto t = torch::empty({numel}, torch::TensorOptions().dtype(type));
  const size_t n = static_cast<size_t>(numel) * element;
  if (n > 0) std::memcpy(t.data_ptr(), bytes.data() + offset, n);
  return t;
}

RangeResult pack_range(int64_t nq, const torch::Tensor& rows, const torch::Tensor& scores,
                       const torch::Tensor& ids, bool larger_is_nearer) {
  // Nearest first, then stable by row: each query's block is sorted by score.
  auto by_score = std::get<1>(scores.sort(/*stable=*/true, 0, /*descending=*/larger_is_nearer));
  auto r = rows.index_select(0, by_score);
  auto by_row = std::get<1>(r.sort(/*stable=*/true, 0, /*descending=*/false));
  auto order = by_score.index_select(0, by_row);
  RangeResult out;
  out.scores = scores.index_select(0, order).contiguous();
  out.ids = ids.index_select(0, order).contiguous();
  auto counts = rows.numel() ? torch::bincount(rows, {}, nq) : torch::zeros({nq}, torch::kLong);
  out.lims = torch::cat({torch::zeros({1}, torch::kLong), counts.cumsum(0)});
  return out;
}

namespace {

class EngineStore final : public Store {
 public:
  EngineStore(int64_t dim, std::string metric, const std::string& device)
      : dim_(dim), metric_(std::move(metric)), device_(util::parse_device(device)) {
    data_ = torch::empty({0, dim_}, torch::TensorOptions().dtype(torch::kFloat).device(device_));
    ids_ = torch::empty({0}, torch::kLong);
  }

  bool is_trained() const override { return true; }
  void train(const torch::Tensor&) override {}

  void add(const torch::Tensor& x, const torch::Tensor& ids) override {
    const int64_t m = x.size(0);
    if (n_ + m > data_.size(0)) {  // grow geometrically: amortised O(1) per row
      const int64_t cap = std::max<int64_t>({n_ + m, 2 * data_.size(0), 1024});
      auto bigger = torch::empty({cap, dim_}, data_.options());
      bigger.narrow(0, 0, n_).copy_(data_.narrow(0, 0, n_));
      data_ = bigger;
      auto bigger_ids = torch::empty({cap}, torch::kLong);
      bigger_ids.narrow(0, 0, n_).copy_(ids_.narrow(0, 0, n_));
      ids_ = bigger_ids;
    }
    data_.narrow(0, n_, m).copy_(x);
    ids_.narrow(0, n_, m).copy_(ids);
    n_ += m;
  }

  bool removes_in_place() const override { return true; }
  void remove(const std::unordered_set<int64_t>& drop) override { rebuild(drop); }

  int64_t stored() const override { return n_; }
  torch::Tensor stored_ids() const override { return ids_.narrow(0, 0, n_).clone(); }

  KnnResult search(const torch::Tensor& q, int64_t k, const SearchParams&) const override {
    const int64_t nq = q.size(0);
    KnnResult out{torch::empty({nq, k}, torch::kFloat), torch::full({nq, k}, -1, torch::kLong)};
    if (n_ == 0) return out;
    KnnOptions o;
    o.metric = metric_;
    o.check_finite = false;  // VectorIndex checked the query; stored vectors were checked on add
    const int64_t kk = std::min(k, n_);
    auto res = exact_knn(q.to(device_), data_.narrow(0, 0, n_), kk, o);
    out.scores.narrow(1, 0, kk).copy_(res.scores);
    out.indices.narrow(1, 0, kk).copy_(
        ids_.narrow(0, 0, n_).index_select(0, res.indices.view(-1)).view({nq, kk}));
    return out;
  }

  RangeResult range_search(const torch::Tensor& q, float threshold,
                           const SearchParams&) const override {
    torch::NoGradGuard guard;
    const int64_t nq = q.size(0);
    const bool l2 = metric_ == "l2";
    const int64_t query_tile = 1024, ref_tile = 65536;
    std::vector<torch::Tensor> rows, scores, ids;
    auto qd = q.to(device_);
    auto base = data_.narrow(0, 0, n_);
    auto ref_norms = l2 ? base.pow(2).sum(1) : torch::Tensor();
    for (int64_t s = 0; s < nq; s += query_tile) {
      const int64_t e = std::min(nq, s + query_tile);
      auto qt = qd.slice(0, s, e);
      auto q_norms = l2 ? qt.pow(2).sum(1, true) : torch::Tensor();
      for (int64_t rs = 0; rs < n_; rs += ref_tile) {
        const int64_t re = std::min(n_, rs + ref_tile);
        auto sim = torch::mm(qt, base.slice(0, rs, re).t());
        if (l2)
          sim = (q_norms + ref_norms.slice(0, rs, re).unsqueeze(0)).sub_(sim.mul_(2)).clamp_min_(0);
        auto hit = l2 ? sim.lt(threshold) : sim.gt(threshold);
        auto where = hit.nonzero();  // [h, 2]
        if (where.size(0) == 0) continue;
        auto r = where.select(1, 0), c = where.select(1, 1);
        scores.push_back(sim.index({r, c}).to(torch::kCPU));
        rows.push_back(r.to(torch::kCPU).add_(s));
        ids.push_back(ids_.index_select(0, c.to(torch::kCPU).add_(rs)));
      }
    }
    if (rows.empty()) {
      return pack_range(nq, torch::empty({0}, torch::kLong), torch::empty({0}, torch::kFloat),
                        torch::empty({0}, torch::kLong), !l2);
    }
    return pack_range(nq, torch::cat(rows), torch::cat(scores), torch::cat(ids), !l2);
  }

  void rebuild(const std::unordered_set<int64_t>& drop) override {
    auto ids = ids_.narrow(0, 0, n_);
    auto ip = ids.data_ptr<int64_t>();
    std::vector<int64_t> keep;
    keep.reserve(n_);
    for (int64_t i = 0; i < n_; ++i)
      if (!drop.count(ip[i])) keep.push_back(i);
    auto rows = torch::tensor(keep, torch::kLong);
    data_ = data_.narrow(0, 0, n_).index_select(0, rows.to(device_));
    ids_ = ids.index_select(0, rows);
    n_ = static_cast<int64_t>(keep.size());
  }

  std::string serialize() const override {
    return tensor_bytes(ids_.narrow(0, 0, n_)) + tensor_bytes(data_.narrow(0, 0, n_));
  }

  void deserialize(const std::string& bytes) {
    const int64_t row = sizeof(int64_t) + dim_ * sizeof(float);
    LOOKALIKE_CHECK_FILE(bytes.size() % row == 0, "engine index payload of ", bytes.size(),
                         " bytes is not a whole number of ", row, "-byte rows");
    n_ = static_cast<int64_t>(bytes.size()) / row;
    ids_ = tensor_from_bytes(bytes, 0, n_, torch::kLong);
    data_ = tensor_from_bytes(bytes, n_ * sizeof(int64_t), n_ * dim_, torch::kFloat)
                .view({n_, dim_})
                .to(device_);
  }

 private:
  int64_t dim_;
  std::string metric_;
  torch::Device device_;
  torch::Tensor data_;  // [capacity, d] on device_; rows 0..n_-1 used
  torch::Tensor ids_;   // int64 [capacity] on the CPU
  int64_t n_ = 0;
};

}  // namespace

std::unique_ptr<Store> make_engine_store(int64_t dim, const std::string& metric,
                                         const std::string& device) {
  return std::make_unique<EngineStore>(dim, metric, device);
}

std::unique_ptr<Store> load_engine_store(int64_t dim, const std::string& metric,
                                         const std::string& device, const std::string& bytes) {
  auto s = std::make_unique<EngineStore>(dim, metric, device);
  s->deserialize(bytes);
  return s;
}

}  // namespace lookalike::index::detail
