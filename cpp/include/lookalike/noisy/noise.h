#pragma once
// Label-noise simulation, seeded and exact: for the class-conditional kinds the number of
// samples moved from class i to class j is the asked T[i][j] x n_i, rounded by largest
// remainders so every row's counts add up to n_i; which samples move is a seeded shuffle.
#include <string>

#include <torch/types.h>

#include "lookalike/util/options.h"

namespace lookalike::noisy {

struct NoiseOptions {
  std::string kind = "symmetric";  // "symmetric" | "pairflip" | "asymmetric" | "instance"
  double rate = 0.2;               // [0, 1): share of labels changed (symmetric/pairflip/instance)
  int64_t num_classes = 0;         // <= 0: max label + 1
  uint64_t seed = 0;
  torch::Tensor transition;   // asymmetric: float64/32 [C, C], rows sum to 1; T[i][j] = P(j | i)
  torch::Tensor features;     // instance: float [N, D] per sample (e.g. flattened images)
  double instance_std = 0.1;  // instance: spread of the per-sample flip rates around `rate`
};
LOOKALIKE_OPTIONS(NoiseOptions, kind, rate, num_classes, seed, transition, features, instance_std)

struct NoiseResult {
  torch::Tensor noisy_labels;  // int64 [N]
  torch::Tensor corrupted;     // bool [N]: noisy != clean
  torch::Tensor transition;    // float64 [C, C]: the asked T (expected T for "instance")
  double realised_rate = 0;    // corrupted.mean()
};

/// Throws InvalidArgument on labels outside [0, C), a rate outside [0, 1), a transition
/// matrix that is not C x C, negative, or whose rows do not sum to 1, features of the wrong
/// shape, an unknown kind.
NoiseResult inject_noise(const torch::Tensor& labels, const NoiseOptions& options);

/// The transition T[i][j] = P(noisy = j | clean = i) realised by a pair of label vectors
/// (float64 [C, C]; rows of absent classes are zero).
torch::Tensor realised_transition(const torch::Tensor& clean, const torch::Tensor& noisy,
                                  int64_t num_classes);

}  // namespace lookalike::noisy
