#pragma once
// Titles as vectors: tokenisation, hashed word + character n-gram features, seller-style title
// perturbations, and a title encoder (hashed features -> IDF-weighted embedding bag ->
// projection) trained with an in-batch contrastive loss on duplicate groups and perturbed
// copies of titles.
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <torch/types.h>

#include "lookalike/util/json.h"

#include "lookalike/util/options.h"

namespace lookalike::dedup {

/// Lower-cased (ASCII) words: maximal runs of letters, digits and non-ASCII bytes.
std::vector<std::string> tokenize(const std::string& text);

struct HashOptions {
  int64_t buckets = 1 << 17;
  int min_n = 3;  // character n-grams of "<word>" from min_n to max_n bytes (0: none)
  int max_n = 5;
  bool words = true;  // whole words as features too
};
LOOKALIKE_OPTIONS(HashOptions, buckets, min_n, max_n, words)

/// Feature bucket ids of one text (with repeats), in [0, buckets).
std::vector<int64_t> hash_features(const std::string& text, const HashOptions& options);

/// How a seller re-types a title: each word dropped with `drop`; with `reorder` two words
/// swap places; with `abbreviate` a long word is cut (e.g. "Cotton" -> "Cott."); with `typo`
/// one word loses or swaps a letter; with `boilerplate` a seller phrase ("NEW", "Original",
/// "Free Shipping", ...) is added at the start or end; with `case_change` the case changes.
struct TitleNoise {
  double drop = 0.15, reorder = 0.5, abbreviate = 0.3, typo = 0.2, boilerplate = 0.4,
         case_change = 0.2;
};
LOOKALIKE_OPTIONS(TitleNoise, drop, reorder, abbreviate, typo, boilerplate, case_change)
std::string perturb_title(const std::string& title, std::mt19937_64& rng,
                          const TitleNoise& noise = {});

struct TextEncoderOptions {
  HashOptions hash;
  int64_t dim = 128;  // embedding and output width
  int epochs = 10;    // 0: untrained (random projection of IDF-weighted features)
  int64_t batch_size = 256;
  double lr = 2e-3;  // Adam
  double temperature = 0.05;
  bool self_supervised = true;  // a title with no training partner pairs with a perturbed copy
  TitleNoise noise;             // those copies' perturbation
  uint64_t seed = 0;
  std::string device = "cpu";
};
LOOKALIKE_OPTIONS(TextEncoderOptions, hash, dim, epochs, batch_size, lr, temperature,
                  self_supervised, noise, seed, device)

class TextEncoder {
 public:
  explicit TextEncoder(TextEncoderOptions options = {});
  ~TextEncoder();
  TextEncoder(TextEncoder&&) noexcept;
  TextEncoder& operator=(TextEncoder&&) noexcept;

  /// Trains on the rows `train_rows` (int64) of `texts`: rows with equal `groups` (int64 [N])
  /// are positives of each other; other rows in the batch are negatives (rows of the anchor's
  /// own group are masked out). IDF weights come from the training rows. One record per epoch
  /// (epoch, loss, seconds, group_pairs, self_pairs).
  std::vector<util::Record> fit(const std::vector<std::string>& texts, const torch::Tensor& groups,
                                const torch::Tensor& train_rows);
  /// float32 [N, dim], L2-normalised, on the CPU.
  torch::Tensor encode(const std::vector<std::string>& texts) const;

  const TextEncoderOptions& options() const;
  void save(const std::string& path) const;  // atomic
  static TextEncoder load(const std::string& path);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lookalike::dedup
