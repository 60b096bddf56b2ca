#pragma once
// The metric-learning options of training: the loss, the miner and their parameters (names and
// defaults of pytorch-metric-learning). See metric/loss.h and metric/miner.h.
#include <string>

#include "lookalike/util/options.h"

namespace lookalike::metric {

struct MetricOptions {
  std::string loss = "cross_entropy";  // "cross_entropy" (the classifier) or metric_losses()
  std::string miner = "none";          // "none" or miners()
  double triplet_margin = 0.05;        // triplet
  double pos_margin = 0.0;             // contrastive
  double neg_margin = 1.0;             // contrastive
  double ms_alpha = 2.0;               // multi_similarity loss
  double ms_beta = 50.0;               // multi_similarity loss
  double ms_base = 0.5;                // multi_similarity loss
  double temperature = 0.05;           // normalized_softmax
  double proxy_margin = 0.1;           // proxy_anchor
  double proxy_alpha = 32.0;           // proxy_anchor
  double arc_margin = 28.6;            // arcface: degrees
  double arc_scale = 64.0;             // arcface
  double miner_margin = 0.2;           // semi_hard miner: d_an - d_ap in (0, margin]
  double miner_epsilon = 0.1;          // multi_similarity miner
};
LOOKALIKE_OPTIONS(MetricOptions, loss, miner, triplet_margin, pos_margin, neg_margin, ms_alpha,
                  ms_beta, ms_base, temperature, proxy_margin, proxy_alpha, arc_margin, arc_scale,
                  miner_margin, miner_epsilon)

}  // namespace lookalike::metric
