#pragma once
// Per-tag learning curves summarised by group (e.g. concrete vs abstract tags): how each group's
// AP grows with the positive training photos its tags had, and how many positives a tag needs to
// reach a given AP.
#include <torch/types.h>

namespace lookalike::eval {

/// Mean of values float [T] per group: groups int64 [T] in [0, G) (-1: in none), NaN values
/// skipped; float [G] (NaN for a group with no value).
torch::Tensor group_mean(const torch::Tensor& values, const torch::Tensor& groups, int64_t g);

/// The positives at which a tag's AP first reaches `target` along its curve (points sorted by
/// positives): the AP is interpolated linearly between points in log(1 + positives); a tag
/// already at target at its first point needs that point's positives; NaN when never reached.
struct CurveSummary {
  torch::Tensor group_ap;         // float [G, F]: group_mean of the AP at each point
  torch::Tensor group_positives;  // float [G, F]: median positives of the group's tags
  torch::Tensor tag_needed;       // float [T]: positives needed to reach target (NaN: never)
  torch::Tensor group_needed;     // float [G]: median of tag_needed over the group's tags that
                                  //   reach it (NaN: none)
  torch::Tensor group_reached;    // float [G]: share of the group's tags that reach it
};

/// positives float [F, T] (positive training photos of each tag at each of F points, e.g.
/// training fractions, ascending per tag), ap float [F, T] (NaN: not measured), groups int64 [T]
/// in [0, G) or -1. InvalidArgument for shapes that disagree or positives not ascending.
CurveSummary summarise_curves(const torch::Tensor& positives, const torch::Tensor& ap,
                              const torch::Tensor& groups, int64_t g, double target);

}  // namespace lookalike::eval
