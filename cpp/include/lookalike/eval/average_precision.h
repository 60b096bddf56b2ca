#pragma once
// Average precision of scores against binary targets, as scikit-learn's
// average_precision_score: AP = sum_n (R_n - R_{n-1}) P_n over the distinct score thresholds
// (tied scores form one step), no interpolation.
#include <map>
#include <string>

#include <torch/types.h>

namespace lookalike::eval {

/// InvalidArgument (naming `where`) unless scores are float of `dim` dimensions ([N] or [N, K])
/// without NaN and targets 0/1 of the same shape.
void check_scores_targets(const torch::Tensor& scores, const torch::Tensor& targets, int64_t dim,
                          const char* where);

/// AP of scores float [N] against targets [N] (0/1, any numeric dtype); NaN when no target is
/// positive. InvalidArgument for shapes that disagree, NaN scores, targets other than 0/1.
double average_precision(const torch::Tensor& scores, const torch::Tensor& targets);

/// Per-column AP of scores float [N, K] against targets [N, K]: float [K] (NaN for a column
/// without a positive). `known` bool [N, K] (optional) keeps only the entries whose target is
/// known (e.g. an exclusive tag family on photos not labelled in it).
torch::Tensor average_precision_per_column(const torch::Tensor& scores,
                                           const torch::Tensor& targets,
                                           const torch::Tensor& known = {});

/// {"macro": mean of the per-column APs over columns with a positive, "micro": the AP of all
/// N K (score, target) pairs (the known ones) as one ranking, "columns": columns with a
/// positive}.
std::map<std::string, double> mean_average_precision(const torch::Tensor& scores,
                                                     const torch::Tensor& targets,
                                                     const torch::Tensor& known = {});

}  // namespace lookalike::eval
