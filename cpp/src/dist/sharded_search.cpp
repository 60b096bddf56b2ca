#include "lookalike/dist/sharded_search.h"

#include <limits>
#include <nlohmann/json.hpp>

#include "lookalike/util/files.h"

namespace lookalike::dist {

namespace {

// An order-free checksum of a set of ids (each id's hash, summed modulo 2^64).
uint64_t ids_checksum(const torch::Tensor& ids) {
  auto c = ids.to(torch::kLong).contiguous();
  const int64_t* p = c.data_ptr<int64_t>();
  uint64_t sum = 0;
  for (int64_t i = 0; i < c.numel(); ++i) {
    uint64_t z = static_cast<uint64_t>(p[i]) + 0x9E3779B97F4A7C15ULL;  // splitmix64's finaliser
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    sum += z ^ (z >> 31);
  }
  return sum;
}

std::string shard_path(const std::string& prefix, int rank, int size) {
  return prefix + ".shard" + std::to_string(rank) + "-of-" + std::to_string(size);
}

// Rank 0's float [nq, d] queries on every rank.
torch::Tensor broadcast_queries(World& w, const torch::Tensor& queries, int64_t dim) {
  auto shape = torch::zeros({2}, torch::kLong);
  if (w.is_root()) {
    LOOKALIKE_CHECK_ARG(queries.defined() && queries.dim() == 2 && queries.size(1) == dim,
                        "sharded_search: queries must be float [nq, ", dim, "] on rank 0");
    shape[0] = queries.size(0);
    shape[1] = queries.size(1);
  }
  w.broadcast(shape, 0, "sharded_search: the queries' shape");
  auto q = w.is_root() ? queries.to(torch::kCPU, torch::kFloat).contiguous()
                       : torch::empty({shape[0].item<int64_t>(), dim}, torch::kFloat);
  w.broadcast(q, 0, "sharded_search: the queries");
  return q;
}

}  // namespace

torch::Tensor shard_rows(const torch::Tensor& ids, int rank, int size) {
  LOOKALIKE_CHECK_ARG(ids.defined() && ids.dim() == 1 && ids.scalar_type() == torch::kLong,
                      "shard_rows: ids must be int64 [n]");
  LOOKALIKE_CHECK_ARG(size >= 1 && rank >= 0 && rank < size, "shard_rows: rank ", rank,
                      " is not in [0, ", size, ")");
  LOOKALIKE_CHECK_ARG(ids.numel() == 0 || ids.min().item<int64_t>() >= 0,
                      "shard_rows: ids must be >= 0");
  return ids.remainder(size).eq(rank).nonzero().reshape({-1});
}

index::KnnResult merge_topk(const std::vector<torch::Tensor>& scores,
                            const std::vector<torch::Tensor>& ids, int64_t k,
                            const std::string& metric) {
  LOOKALIKE_CHECK_ARG(metric == "ip" || metric == "l2", "merge_topk: metric must be 'ip' or 'l2'");
  LOOKALIKE_CHECK_ARG(!scores.empty() && scores.size() == ids.size(),
                      "merge_topk: one ids list per scores list, at least one");
  LOOKALIKE_CHECK_ARG(k >= 1, "merge_topk: k must be >= 1, got ", k);
  const int64_t nq = scores[0].size(0);
  for (size_t i = 0; i < scores.size(); ++i)
    LOOKALIKE_CHECK_ARG(
        scores[i].dim() == 2 && scores[i].sizes() == ids[i].sizes() && scores[i].size(0) == nq,
        "merge_topk: list ", i, " must be scores and ids [", nq, ", k_i]");
  const bool ip = metric == "ip";
  const float none =
      ip ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  auto s = torch::cat(scores, 1).to(torch::kFloat);
  auto id = torch::cat(ids, 1).to(torch::kLong);
  s = s.masked_fill(id.lt(0), none);
  // Ties by id: order by id first, then a stable sort by score keeps that order among equals;
  // missing entries (id -1) get an id past every real one so they stay last.
  auto key = id.masked_fill(id.lt(0), std::numeric_limits<int64_t>::max());
  auto by_id = std::get<1>(key.sort(/*stable=*/true, 1, /*descending=*/false));
  s = s.gather(1, by_id);
  id = id.gather(1, by_id);
  auto by_score = std::get<1>(s.sort(/*stable=*/true, 1, /*descending=*/ip));
  s = s.gather(1, by_score);
  id = id.gather(1, by_score);
  const int64_t have = std::min<int64_t>(k, s.size(1));
  index::KnnResult r;
  r.scores = torch::full({nq, k}, none, torch::kFloat);
  r.indices = torch::full({nq, k}, -1, torch::kLong);
  r.scores.narrow(1, 0, have).copy_(s.narrow(1, 0, have));
  r.indices.narrow(1, 0, have).copy_(id.narrow(1, 0, have));
  return r;
}

index::KnnResult sharded_search(World& w, const index::VectorIndex& shard,
                                const torch::Tensor& queries, int64_t k,
                                const index::SearchParams& params) {
  LOOKALIKE_CHECK_ARG(k >= 1, "sharded_search: k must be >= 1, got ", k);
  const std::string metric = shard.options().metric;
  check_same(w, "dim " + std::to_string(shard.dim()) + ", metric " + metric,
             "sharded_search: the shards' dimension and metric");
  auto q = broadcast_queries(w, queries, shard.dim());
  const int64_t nq = q.size(0);
  index::KnnResult local;
  if (shard.size() > 0) {
    local = shard.search(q, std::min(k, shard.size()), params);
  } else {  // an empty shard contributes nothing
    local.scores = torch::empty({nq, 0}, torch::kFloat);
    local.indices = torch::empty({nq, 0}, torch::kLong);
  }
  // all_gather concatenates rows, and each shard's k may differ: gather [k_r, nq].
  auto s = w.all_gather(local.scores.to(torch::kCPU).t().contiguous(), "sharded_search: scores");
  auto i = w.all_gather(local.indices.to(torch::kCPU).t().contiguous(), "sharded_search: ids");
  for (auto& t : s) t = t.t();
  for (auto& t : i) t = t.t();
  return merge_topk(s, i, k, metric);
}

void save_shard(World& w, const index::VectorIndex& shard, const std::string& prefix) {
  shard.save(shard_path(prefix, w.rank(), w.size()));
  auto mine =
      torch::tensor({shard.size(), static_cast<int64_t>(ids_checksum(shard.ids()))}, torch::kLong)
          .reshape({1, 2});
  auto all = w.all_gather(mine, "save_shard: the shards' sizes");
  if (w.is_root()) {
    nlohmann::ordered_json m;
    m["format"] = "lookalike.shards/1";
    m["world_size"] = w.size();
    m["dim"] = shard.dim();
    m["metric"] = shard.options().metric;
    m["spec"] = shard.options().spec;
    for (auto& t : all)
      m["shards"].push_back({{"size", t[0][0].item<int64_t>()},
                             {"ids_checksum", static_cast<uint64_t>(t[0][1].item<int64_t>())}});
    util::write_file_atomic(prefix + ".shards.json", m.dump(2));
  }
  w.barrier("save_shard: the manifest's writing by rank 0");
}

index::VectorIndex load_shard(World& w, const std::string& prefix, const std::string& device) {
  const std::string manifest = prefix + ".shards.json";
  const std::string path = shard_path(prefix, w.rank(), w.size());
  nlohmann::json m;
  try {
    m = nlohmann::json::parse(util::read_file(manifest));
    LOOKALIKE_CHECK_FILE(m.at("format") == "lookalike.shards/1", "not a shard manifest");
  } catch (const FileError&) {
    throw;
  } catch (const std::exception& e) {
    throw FileError(detail::concat("shard manifest '", manifest, "' is not readable: ", e.what()));
  }
  const int written = m.at("world_size").get<int>();
  LOOKALIKE_CHECK_FILE(written == w.size(), "shards '", prefix, "' were written by ", written,
                       " ranks; this run has ", w.size(), " (WORLD_SIZE must match)");
  auto shard = index::VectorIndex::load(path, device);
  const auto& want = m.at("shards").at(static_cast<size_t>(w.rank()));
  const bool same = shard.size() == want.at("size").get<int64_t>() &&
                    ids_checksum(shard.ids()) == want.at("ids_checksum").get<uint64_t>() &&
                    shard.dim() == m.at("dim").get<int64_t>() &&
                    shard.options().metric == m.at("metric").get<std::string>();
  LOOKALIKE_CHECK_FILE(same, "'", path, "' is not shard ", w.rank(), " of '", prefix,
                       "': its items (", shard.size(),
                       ", id checksum) or dimension differ from the "
                       "manifest's (a shard of another index?)");
  return shard;
}

}  // namespace lookalike::dist
