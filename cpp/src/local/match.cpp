#include "lookalike/local/match.h"

#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "lookalike/error.h"
#include "match_checked.h"

#ifdef LOOKALIKE_HAVE_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/features2d.hpp>
#endif
#ifdef LOOKALIKE_HAVE_FAISS
#include <faiss/IndexBinaryFlat.h>
#include <faiss/IndexFlat.h>
#endif

namespace lookalike::local {
namespace {

// Nearest and second-nearest of each row of a in b, and nearest of each row of b in a.
struct Neighbours {
  std::vector<int64_t> nn;    // [Ka] index in b
  std::vector<float> d1, d2;  // [Ka] distances to the nearest and second (inf: none)
  std::vector<int64_t> back;  // [Kb] index in a of b's nearest
};

// One scan of the full distance matrix [Ka, Kb]: each row's two smallest, each column's smallest
// (ties: the lower index).
Neighbours scan(const torch::Tensor& dist) {
  const int64_t ka = dist.size(0), kb = dist.size(1);
  const float inf = std::numeric_limits<float>::infinity();
  Neighbours n;
  n.nn.assign(static_cast<size_t>(ka), -1);
  n.d1.assign(static_cast<size_t>(ka), inf);
  n.d2.assign(static_cast<size_t>(ka), inf);
  n.back.assign(static_cast<size_t>(kb), -1);
  std::vector<float> col(static_cast<size_t>(kb), inf);
  const float* d = dist.data_ptr<float>();
  for (int64_t i = 0; i < ka; ++i) {
    const float* row = d + i * kb;
    float b1 = inf, b2 = inf;
    int64_t j1 = -1;
    for (int64_t j = 0; j < kb; ++j) {
      const float v = row[j];
      if (v < b1) {
        b2 = b1;
        b1 = v;
        j1 = j;
      } else if (v < b2) {
        b2 = v;
      }
      if (v < col[static_cast<size_t>(j)]) {
        col[static_cast<size_t>(j)] = v;
        n.back[static_cast<size_t>(j)] = i;
      }
    }
    n.nn[static_cast<size_t>(i)] = j1;
    n.d1[static_cast<size_t>(i)] = b1;
    n.d2[static_cast<size_t>(i)] = b2;
  }
  return n;
}

// Brute force: float descriptors by one GEMM (|a|^2 + |b|^2 - 2 a b^T), binary ones by OpenCV's
// batchDistance (Hamming); both directions from the one matrix.
Neighbours brute(const torch::Tensor& a, const torch::Tensor& b, bool binary) {
  if (!binary) {
    auto sq = a.pow(2).sum(1, true) + b.pow(2).sum(1).unsqueeze(0);
    auto dist = torch::addmm(sq, a, b.t(), /*beta=*/1, /*alpha=*/-2).clamp_min_(0).sqrt_();
    return scan(dist.contiguous());
  }
#ifdef LOOKALIKE_HAVE_OPENCV
  const cv::Mat ma(static_cast<int>(a.size(0)), static_cast<int>(a.size(1)), CV_8U, a.data_ptr());
  const cv::Mat mb(static_cast<int>(b.size(0)), static_cast<int>(b.size(1)), CV_8U, b.data_ptr());
  auto dist = torch::empty({a.size(0), b.size(0)}, torch::kInt32);  // Hamming needs CV_32S
  cv::Mat md(static_cast<int>(a.size(0)), static_cast<int>(b.size(0)), CV_32S, dist.data_ptr());
  cv::batchDistance(ma, mb, md, CV_32S, cv::noArray(), cv::NORM_HAMMING, 0);
  LOOKALIKE_CHECK_ARG(md.data == dist.data_ptr(), "match_features: batchDistance reallocated");
  return scan(dist.to(torch::kFloat32));
#else
  throw Error("match_features: binary descriptors need OpenCV, which this build lacks");
#endif
}

#ifdef LOOKALIKE_HAVE_FAISS
using faiss_idx = faiss::Index::idx_t;

// k nearest of q in x: (indices [nq * k], distances [nq * k]), L2 (not squared) or Hamming.
void faiss_knn(const torch::Tensor& x, const torch::Tensor& q, int k, bool binary,
               std::vector<faiss_idx>& ids, std::vector<float>& dist) {
  const auto nq = q.size(0);
  ids.assign(static_cast<size_t>(nq * k), -1);
  dist.assign(static_cast<size_t>(nq * k), std::numeric_limits<float>::infinity());
  if (binary) {
    faiss::IndexBinaryFlat index(static_cast<int>(x.size(1) * 8));
    index.add(x.size(0), x.data_ptr<uint8_t>());
    std::vector<int32_t> hamming(ids.size());
    index.search(nq, q.data_ptr<uint8_t>(), k, hamming.data(), ids.data());
    for (size_t i = 0; i < ids.size(); ++i)
      if (ids[i] >= 0) dist[i] = static_cast<float>(hamming[i]);
  } else {
    faiss::IndexFlatL2 index(x.size(1));
    index.add(x.size(0), x.data_ptr<float>());
    index.search(nq, q.data_ptr<float>(), k, dist.data(), ids.data());
    for (size_t i = 0; i < ids.size(); ++i)
      dist[i] =
          ids[i] >= 0 ? std::sqrt(std::max(dist[i], 0.0f)) : std::numeric_limits<float>::infinity();
  }
}

Neighbours with_faiss(const torch::Tensor& a, const torch::Tensor& b, bool binary) {
  std::vector<faiss_idx> ids;
  std::vector<float> dist;
  Neighbours n;
  faiss_knn(b, a, 2, binary, ids, dist);
  for (int64_t i = 0; i < a.size(0); ++i) {
    n.nn.push_back(ids[static_cast<size_t>(2 * i)]);
    n.d1.push_back(dist[static_cast<size_t>(2 * i)]);
    n.d2.push_back(dist[static_cast<size_t>(2 * i + 1)]);
  }
  faiss_knn(a, b, 1, binary, ids, dist);
  n.back.assign(ids.begin(), ids.end());
  return n;
}
#endif

bool use_faiss(const MatchOptions& o, int64_t ka, int64_t kb) {
#ifdef LOOKALIKE_HAVE_FAISS
  if (o.search == "faiss") return true;
  if (o.search == "auto") return ka * kb >= o.faiss_min_pairs;
  return false;
#else
  LOOKALIKE_CHECK_ARG(o.search != "faiss",
                      "MatchOptions.search 'faiss': this build of lookalike has no FAISS");
  return false;
#endif
}

}  // namespace

void validate(const MatchOptions& o) {
  LOOKALIKE_CHECK_ARG(o.ratio > 0 && o.ratio <= 1, "MatchOptions.ratio must be in (0, 1], got ",
                      o.ratio);
  LOOKALIKE_CHECK_ARG(o.search == "auto" || o.search == "brute" || o.search == "faiss",
                      "MatchOptions.search must be auto, brute or faiss, got '", o.search, "'");
  LOOKALIKE_CHECK_ARG(o.faiss_min_pairs >= 0, "MatchOptions.faiss_min_pairs must be >= 0, got ",
                      o.faiss_min_pairs);
}

Matches match_features(const LocalFeatures& a, const LocalFeatures& b,
                       const MatchOptions& options) {
  validate(options);
  check_features(a, "match_features: a");
  check_features(b, "match_features: b");
  return detail::match_checked(a, b, options);
}

Matches detail::match_checked(const LocalFeatures& a, const LocalFeatures& b,
                              const MatchOptions& options) {
  LOOKALIKE_CHECK_ARG(a.binary() == b.binary() && a.descriptors.size(1) == b.descriptors.size(1),
                      "match_features: descriptors of a (", a.binary() ? "binary" : "float", " x ",
                      a.descriptors.size(1), ") and b (", b.binary() ? "binary" : "float", " x ",
                      b.descriptors.size(1),
                      ") differ; features of one method (e.g. both sift, or both orb) are needed");
  Matches out;
  const int64_t ka = a.size(), kb = b.size();
  if (ka == 0 || kb == 0) {
    out.pairs = torch::empty({0, 2}, torch::kInt64);
    out.distances = torch::empty({0}, torch::kFloat32);
    return out;
  }
  const auto da = a.descriptors.contiguous(), db = b.descriptors.contiguous();
  Neighbours n;
  if (use_faiss(options, ka, kb)) {
#ifdef LOOKALIKE_HAVE_FAISS
    n = with_faiss(da, db, a.binary());
#endif
  } else {
    n = brute(da, db, a.binary());
  }
  std::vector<int64_t> pairs;
  std::vector<float> dist;
  for (int64_t i = 0; i < ka; ++i) {
    const auto s = static_cast<size_t>(i);
    const int64_t j = n.nn[s];
    if (j < 0) continue;
    if (kb > 1 && options.ratio < 1 && !(n.d1[s] < options.ratio * n.d2[s])) continue;
    if (options.mutual && n.back[static_cast<size_t>(j)] != i) continue;
    pairs.push_back(i);
    pairs.push_back(j);
    dist.push_back(n.d1[s]);
  }
  const auto m = static_cast<int64_t>(dist.size());
  out.pairs = torch::from_blob(pairs.data(), {m, 2}, torch::kInt64).clone();
  out.distances = torch::from_blob(dist.data(), {m}, torch::kFloat32).clone();
  return out;
}

}  // namespace lookalike::local
