#include "lookalike/data/sampler.h"

#include <algorithm>
#include <map>

#include "lookalike/error.h"
#include "lookalike/util/rng.h"

namespace lookalike::data {

namespace {
// An endless seeded shuffled cycle over `items` (reshuffled at each pass).
class Cycle {
 public:
  Cycle(std::vector<int64_t> items, uint64_t seed) : items_(std::move(items)), seed_(seed) {}
  int64_t next() {
    if (pos_ == order_.size()) {
      order_ =
          util::permutation(static_cast<int64_t>(items_.size()), util::mix_seed(seed_, pass_++));
      pos_ = 0;
    }
    return items_[static_cast<size_t>(order_[pos_++])];
  }

 private:
  std::vector<int64_t> items_, order_;
  uint64_t seed_, pass_ = 0;
  size_t pos_ = 0;
};
}  // namespace

std::vector<int64_t> class_balanced_order(const torch::Tensor& labels, int64_t m,
                                          int64_t batch_size, uint64_t seed) {
  LOOKALIKE_CHECK_ARG(labels.dim() == 1 && labels.scalar_type() == torch::kLong && labels.numel(),
                      "class-balanced sampler: labels must be non-empty int64 [N]");
  LOOKALIKE_CHECK_ARG(m >= 2, "samples_per_class must be at least 2, got ", m);
  LOOKALIKE_CHECK_ARG(batch_size % m == 0, "class-balanced sampler: batch_size ", batch_size,
                      " is not a multiple of samples_per_class ", m);
  auto cpu = labels.cpu().contiguous();
  const int64_t* y = cpu.data_ptr<int64_t>();
  const int64_t n = cpu.numel();
  std::map<int64_t, std::vector<int64_t>> by_class;
  for (int64_t i = 0; i < n; ++i) by_class[y[i]].push_back(i);
  std::vector<int64_t> classes;
  std::vector<Cycle> images;
  for (auto& [label, idx] : by_class) {
    LOOKALIKE_CHECK_ARG(idx.size() >= 2, "class-balanced sampler: class ", label,
                        " has a single image (sample ", idx[0],
                        "); it can form no positive pair — drop it or merge it");
    images.emplace_back(idx, util::mix_seed(seed, 1 + static_cast<uint64_t>(classes.size())));
    classes.push_back(static_cast<int64_t>(classes.size()));
  }
  const int64_t per_batch = batch_size / m;
  LOOKALIKE_CHECK_ARG(static_cast<int64_t>(classes.size()) >= per_batch,
                      "class-balanced sampler: a batch of ", batch_size, " with ", m,
                      " per class needs ", per_batch, " classes; the set has ", classes.size());
  Cycle class_cycle(classes, seed);
  const int64_t batches = std::max<int64_t>(1, n / batch_size);
  std::vector<int64_t> order;
  order.reserve(static_cast<size_t>(batches * batch_size));
  for (int64_t b = 0; b < batches; ++b) {
    std::vector<int64_t> picked;
    while (static_cast<int64_t>(picked.size()) < per_batch) {  // distinct classes per batch
      const int64_t c = class_cycle.next();
      if (std::find(picked.begin(), picked.end(), c) == picked.end()) picked.push_back(c);
    }
    for (int64_t c : picked)
      for (int64_t k = 0; k < m; ++k) order.push_back(images[static_cast<size_t>(c)].next());
  }
  return order;
}

}  // namespace lookalike::data
