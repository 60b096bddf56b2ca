#pragma once
// Deterministic, platform-independent randomness for splits and shuffles (std::shuffle and
// std::uniform_int_distribution are implementation-defined; these are not).
#include <cstdint>
#include <random>
#include <vector>

namespace lookalike::util {

/// Mixes seeds into one (splitmix64 finaliser): derive per-epoch or per-batch seeds.
std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b);

/// Uniform integer in [0, bound) without modulo bias (Lemire's method).
std::uint64_t bounded(std::mt19937_64& rng, std::uint64_t bound);

/// A permutation of 0..n-1 determined by `seed` alone (Fisher-Yates).
std::vector<std::int64_t> permutation(std::int64_t n, std::uint64_t seed);

}  // namespace lookalike::util
