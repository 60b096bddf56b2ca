#pragma once
// Private to cpp/src/index: the storage behind VectorIndex. A store holds vectors under
// external ids (>= 0) in insertion ("storage") order and answers searches with those ids;
// VectorIndex does the id bookkeeping, validation and tombstones on top.
#include <memory>
#include <string>
#include <unordered_set>

#include "lookalike/index/vector_index.h"

namespace lookalike::index::detail {

class Store {
 public:
  virtual ~Store() = default;
  virtual bool is_trained() const = 0;
  virtual void train(const torch::Tensor& x) = 0;  // CPU float32 contiguous
  // x: float32 [n, d] contiguous on the CPU; ids: int64 [n] CPU, new to the store.
  virtual void add(const torch::Tensor& x, const torch::Tensor& ids) = 0;
  virtual bool removes_in_place() const = 0;
  // Only when removes_in_place(); every id is stored.
  virtual void remove(const std::unordered_set<int64_t>& ids) = 0;
  virtual int64_t stored() const = 0;
  virtual torch::Tensor stored_ids() const = 0;  // int64 [stored()], storage order, CPU
  // ids -1 where fewer than k were found; scores there are anything (VectorIndex fixes them).
  virtual KnnResult search(const torch::Tensor& q, int64_t k, const SearchParams& p) const = 0;
  virtual RangeResult range_search(const torch::Tensor& q, float threshold,
                                   const SearchParams& p) const = 0;
  // Rebuilds from the stored vectors without `drop`, in storage order, trained state kept.
  virtual void rebuild(const std::unordered_set<int64_t>& drop) = 0;
  virtual std::string serialize() const = 0;
};

std::unique_ptr<Store> make_engine_store(int64_t dim, const std::string& metric,
                                         const std::string& device);
std::unique_ptr<Store> load_engine_store(int64_t dim, const std::string& metric,
                                         const std::string& device, const std::string& bytes);
std::unique_ptr<Store> make_faiss_store(int64_t dim, const std::string& spec,
                                        const std::string& metric, const std::string& device);
std::unique_ptr<Store> load_faiss_store(int64_t dim, const std::string& spec,
                                        const std::string& metric, const std::string& device,
                                        const std::string& bytes);

// Sorts each query's hits nearest first and packs them as a RangeResult. rows: int64 query
// row of each hit (any order), scores/ids alongside; nq queries.
RangeResult pack_range(int64_t nq, const torch::Tensor& rows, const torch::Tensor& scores,
                       const torch::Tensor& ids, bool larger_is_nearer);

// Bytes of a CPU tensor (contiguous) and back.
std::string tensor_bytes(const torch::Tensor& t);
torch::Tensor tensor_from_bytes(const std::string& bytes, size_t offset, int64_t numel,
                                torch::ScalarType type);

}  // namespace lookalike::index::detail
