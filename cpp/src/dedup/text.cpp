#include "lookalike/dedup/text.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <unordered_map>

#include "lookalike/error.h"
#include "lookalike/util/files.h"
#include "lookalike/util/rng.h"

namespace lookalike::dedup {

namespace {

bool word_byte(unsigned char c) { return std::isalnum(c) || c >= 0x80; }

uint64_t fnv1a(const char* p, size_t n, uint64_t h = 1469598103934665603ULL) {
  for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(p[i])) * 1099511628211ULL;
  return h;
}

void check_hash(const HashOptions& o) {
  LOOKALIKE_CHECK_ARG(o.buckets > 0, "hash buckets must be positive, got ", o.buckets);
  LOOKALIKE_CHECK_ARG(o.min_n >= 0 && o.max_n >= o.min_n && (o.min_n > 0 || o.max_n == 0),
                      "character n-gram range must satisfy 1 <= min_n <= max_n (or both 0), got ",
                      o.min_n, "..", o.max_n);
  LOOKALIKE_CHECK_ARG(o.words || o.max_n > 0, "hash features: neither words nor n-grams asked for");
}

const char* const kBoilerplate[] = {
    "NEW",         "Original", "Free Shipping", "100% Authentic", "Best Price",
    "Ready Stock", "Hot Sale", "Promo",         "Official Store", "Limited Edition"};

}  // namespace

std::vector<std::string> tokenize(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (word_byte(c)) {
      cur += c < 0x80 ? static_cast<char>(std::tolower(c)) : ch;
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::vector<int64_t> hash_features(const std::string& text, const HashOptions& o) {
  check_hash(o);
  std::vector<int64_t> out;
  const auto b = static_cast<uint64_t>(o.buckets);
  for (const auto& w : tokenize(text)) {
    if (o.words) out.push_back(static_cast<int64_t>(fnv1a(w.data(), w.size(), fnv1a("w", 1)) % b));
    if (o.max_n == 0) continue;
    const std::string g = "<" + w + ">";
    for (int n = o.min_n; n <= o.max_n; ++n)
      for (size_t s = 0; s + static_cast<size_t>(n) <= g.size(); ++s)
        out.push_back(static_cast<int64_t>(fnv1a(g.data() + s, static_cast<size_t>(n)) % b));
  }
  return out;
}

std::string perturb_title(const std::string& title, std::mt19937_64& rng, const TitleNoise& noise) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<std::string> words;  // keep the original spelling; split on spaces
  {
    std::string cur;
    for (char c : title) {
      if (c == ' ' || c == '\t') {
        if (!cur.empty()) words.push_back(std::move(cur)), cur.clear();
      } else {
        cur += c;
      }
    }
    if (!cur.empty()) words.push_back(std::move(cur));
  }
  if (words.empty()) return title;
  if (words.size() > 1) {
    std::vector<std::string> kept;
    for (auto& w : words)
      if (u(rng) >= noise.drop) kept.push_back(w);
    if (!kept.empty()) words = std::move(kept);
  }
  auto pick = [&](size_t n) { return static_cast<size_t>(util::bounded(rng, n)); };
  if (words.size() > 1 && u(rng) < noise.reorder)
    std::swap(words[pick(words.size())], words[pick(words.size())]);
  auto is_ascii_alpha = [](const std::string& w) {
    return std::all_of(w.begin(), w.end(),
                       [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
  };
  if (u(rng) < noise.abbreviate) {
    std::vector<size_t> longw;
    for (size_t i = 0; i < words.size(); ++i)
      if (words[i].size() >= 6 && is_ascii_alpha(words[i])) longw.push_back(i);
    if (!longw.empty()) {
      auto& w = words[longw[pick(longw.size())]];
      w = w.substr(0, 3 + pick(2)) + ".";
    }
  }
  if (u(rng) < noise.typo) {
    auto& w = words[pick(words.size())];
    if (w.size() >= 4 && is_ascii_alpha(w)) {
      const size_t at = 1 + pick(w.size() - 2);
      if (u(rng) < 0.5)
        w.erase(at, 1);
      else
        std::swap(w[at], w[at - 1]);
    }
  }
  if (u(rng) < noise.case_change) {
    const bool upper = u(rng) < 0.5;
    for (auto& w : words)
      for (auto& c : w)
        c = static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(c))
                                    : std::tolower(static_cast<unsigned char>(c)));
  }
  if (u(rng) < noise.boilerplate) {
    const std::string phrase = kBoilerplate[pick(std::size(kBoilerplate))];
    if (u(rng) < 0.5)
      words.insert(words.begin(), phrase);
    else
      words.push_back(phrase);
  }
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

struct TextEncoder::Impl {
  TextEncoderOptions o;
  torch::nn::EmbeddingBag bag{nullptr};
  torch::nn::Linear proj{nullptr};
  torch::Tensor idf;  // float32 [buckets]

  explicit Impl(TextEncoderOptions options) : o(std::move(options)) {
    check_hash(o.hash);
    LOOKALIKE_CHECK_ARG(o.dim > 0, "text encoder: dim must be positive, got ", o.dim);
    torch::manual_seed(o.seed);
    bag = torch::nn::EmbeddingBag(
        torch::nn::EmbeddingBagOptions(o.hash.buckets, o.dim).mode(torch::kSum));
    torch::nn::init::normal_(bag->weight, 0.0, 1.0 / std::sqrt(double(o.dim)));
    // No bias: a shared offset would pull every title towards one direction after normalising.
    proj = torch::nn::Linear(torch::nn::LinearOptions(o.dim, o.dim).bias(false));
    idf = torch::ones({o.hash.buckets});
  }

  // Flattened features of texts: ids, offsets, IDF weights normalised per text.
  struct Batch {
    torch::Tensor ids, offsets, weights;
  };
  Batch features(const std::vector<const std::string*>& texts) const {
    std::vector<int64_t> ids, offsets;
    std::vector<float> w;
    const float* idfp = idf.data_ptr<float>();
    for (const auto* t : texts) {
      offsets.push_back(static_cast<int64_t>(ids.size()));
      auto f = hash_features(*t, o.hash);
      if (f.empty()) f.push_back(0);  // a title of punctuation only: one shared bucket
      double total = 0;
      for (int64_t b : f) total += idfp[b];
      for (int64_t b : f) ids.push_back(b), w.push_back(static_cast<float>(idfp[b] / total));
    }
    return {torch::tensor(ids, torch::kLong), torch::tensor(offsets, torch::kLong),
            torch::tensor(w, torch::kFloat)};
  }

  torch::Tensor forward(const Batch& b, const torch::Device& dev) {
    auto h = bag->forward(b.ids.to(dev), b.offsets.to(dev), b.weights.to(dev));
    return torch::nn::functional::normalize(proj->forward(h),
                                            torch::nn::functional::NormalizeFuncOptions().dim(1));
  }
};

TextEncoder::TextEncoder(TextEncoderOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
TextEncoder::~TextEncoder() = default;
TextEncoder::TextEncoder(TextEncoder&&) noexcept = default;
TextEncoder& TextEncoder::operator=(TextEncoder&&) noexcept = default;
const TextEncoderOptions& TextEncoder::options() const { return impl_->o; }

namespace {
// IDF over the training rows, float32 [buckets]: log((1 + m) / (1 + df)) + 1, as sklearn's
// smooth IDF.
torch::Tensor idf_weights(const std::vector<std::string>& texts, const std::vector<int64_t>& rows,
                          const HashOptions& hash) {
  std::vector<int64_t> df(static_cast<size_t>(hash.buckets), 0);
  for (int64_t r : rows) {
    auto f = hash_features(texts[static_cast<size_t>(r)], hash);
    std::sort(f.begin(), f.end());
    f.erase(std::unique(f.begin(), f.end()), f.end());
    for (int64_t b : f) ++df[static_cast<size_t>(b)];
  }
  auto idf = torch::empty({hash.buckets});
  float* ip = idf.data_ptr<float>();
  const double mrows = static_cast<double>(rows.size());
  for (int64_t b = 0; b < hash.buckets; ++b)
    ip[b] = static_cast<float>(std::log((1 + mrows) / (1 + df[static_cast<size_t>(b)])) + 1);
  return idf;
}

// Symmetric in-batch InfoNCE of anchors za against positives zp (float [b, d], L2-normalised):
// row i's positive is zp[i]; other rows of the anchor's own group are not negatives.
torch::Tensor in_batch_loss(const torch::Tensor& za, const torch::Tensor& zp,
                            const std::vector<int64_t>& anchor_groups, double temperature) {
  const auto dev = za.device();
  auto logits = torch::mm(za, zp.t()) / temperature;
  auto gt = torch::tensor(anchor_groups, torch::kLong).to(dev);
  const int64_t b = static_cast<int64_t>(anchor_groups.size());
  auto same = gt.unsqueeze(1).eq(gt.unsqueeze(0)) &
              ~torch::eye(b, torch::TensorOptions().dtype(torch::kBool).device(dev));
  logits = logits.masked_fill(same, -1e9);
  auto target = torch::arange(b, torch::TensorOptions().dtype(torch::kLong).device(dev));
  return 0.5 * (torch::nn::functional::cross_entropy(logits, target) +
                torch::nn::functional::cross_entropy(logits.t(), target));
}
}  // namespace

std::vector<util::Record> TextEncoder::fit(const std::vector<std::string>& texts,
                                           const torch::Tensor& groups,
                                           const torch::Tensor& train_rows) {
  auto& m = *impl_;
  const auto& o = m.o;
  const int64_t n = static_cast<int64_t>(texts.size());
  LOOKALIKE_CHECK_ARG(
      groups.dim() == 1 && groups.size(0) == n && groups.scalar_type() == torch::kLong,
      "TextEncoder.fit: groups must be int64 [", n, "], got ", groups.sizes(), " ",
      groups.scalar_type());
  LOOKALIKE_CHECK_ARG(
      train_rows.dim() == 1 && train_rows.scalar_type() == torch::kLong && train_rows.numel() >= 2,
      "TextEncoder.fit: train_rows must be int64 [m >= 2]");
  LOOKALIKE_CHECK_ARG(
      o.epochs >= 0 && o.batch_size >= 2 && o.lr > 0 && o.temperature > 0,
      "TextEncoder.fit: need epochs >= 0, batch_size >= 2, lr > 0, temperature > 0");
  auto rows_t = train_rows.contiguous();
  std::vector<int64_t> rows(rows_t.data_ptr<int64_t>(),
                            rows_t.data_ptr<int64_t>() + rows_t.numel());
  const auto groups_c = groups.contiguous();
  const int64_t* g = groups_c.data_ptr<int64_t>();
  for (int64_t r : rows)
    LOOKALIKE_CHECK_ARG(r >= 0 && r < n, "TextEncoder.fit: train row ", r, " outside [0, ", n, ")");

  m.idf = idf_weights(texts, rows, o.hash);

  std::unordered_map<int64_t, std::vector<int64_t>> members;
  for (int64_t r : rows) members[g[r]].push_back(r);

  const torch::Device dev(o.device);
  m.bag->to(dev);
  m.proj->to(dev);
  std::vector<torch::Tensor> params = m.bag->parameters();
  for (auto& p : m.proj->parameters()) params.push_back(p);
  torch::optim::Adam opt(params, torch::optim::AdamOptions(o.lr));
  std::vector<util::Record> history;
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    m.bag->train();
    m.proj->train();
    std::mt19937_64 rng(util::mix_seed(o.seed, static_cast<uint64_t>(epoch) + 1));
    auto perm =
        util::permutation(static_cast<int64_t>(rows.size()), util::mix_seed(o.seed, 1000 + epoch));
    double loss_sum = 0;
    int64_t batches = 0, group_pairs = 0, self_pairs = 0;
    std::vector<std::string> perturbed;
    for (size_t s = 0; s < perm.size(); s += static_cast<size_t>(o.batch_size)) {
      std::vector<const std::string*> anchors, positives;
      std::vector<int64_t> anchor_groups;
      perturbed.clear();
      perturbed.reserve(static_cast<size_t>(o.batch_size));
      const size_t e = std::min(perm.size(), s + static_cast<size_t>(o.batch_size));
      for (size_t i = s; i < e; ++i) {
        const int64_t r = rows[static_cast<size_t>(perm[i])];
        const auto& mem = members[g[r]];
        if (mem.size() >= 2) {
          int64_t p = r;
          while (p == r) p = mem[util::bounded(rng, mem.size())];
          positives.push_back(&texts[static_cast<size_t>(p)]);
          ++group_pairs;
        } else if (o.self_supervised) {
          perturbed.push_back(perturb_title(texts[static_cast<size_t>(r)], rng, o.noise));
          positives.push_back(&perturbed.back());
          ++self_pairs;
        } else {
          continue;
        }
        anchors.push_back(&texts[static_cast<size_t>(r)]);
        anchor_groups.push_back(g[r]);
      }
      if (anchors.size() < 2) continue;
      auto za = m.forward(m.features(anchors), dev);
      auto zp = m.forward(m.features(positives), dev);
      auto loss = in_batch_loss(za, zp, anchor_groups, o.temperature);
      opt.zero_grad();
      loss.backward();
      opt.step();
      loss_sum += loss.item<double>();
      ++batches;
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    history.push_back({{"epoch", epoch + 1},
                       {"loss", batches ? loss_sum / batches : std::nan("")},
                       {"seconds", secs},
                       {"group_pairs", static_cast<double>(group_pairs)},
                       {"self_pairs", static_cast<double>(self_pairs)}});
  }
  m.bag->to(torch::kCPU);
  m.proj->to(torch::kCPU);
  return history;
}

torch::Tensor TextEncoder::encode(const std::vector<std::string>& texts) const {
  auto& m = *impl_;
  torch::NoGradGuard no_grad;
  m.bag->eval();
  m.proj->eval();
  const int64_t n = static_cast<int64_t>(texts.size());
  auto out = torch::empty({n, m.o.dim});
  for (int64_t s = 0; s < n; s += 4096) {
    const int64_t e = std::min(n, s + 4096);
    std::vector<const std::string*> chunk;
    for (int64_t i = s; i < e; ++i) chunk.push_back(&texts[static_cast<size_t>(i)]);
    out.slice(0, s, e).copy_(m.forward(m.features(chunk), torch::kCPU));
  }
  return out;
}

void TextEncoder::save(const std::string& path) const {
  const auto& m = *impl_;
  util::write_atomic_with(path, [&](const std::string& tmp) {
    torch::serialize::OutputArchive a, bag, proj;
    m.bag->save(bag);
    m.proj->save(proj);
    a.write("format", c10::IValue(std::string("lookalike.TextEncoder/1")));
    a.write("hash", torch::tensor({m.o.hash.buckets, int64_t(m.o.hash.min_n),
                                   int64_t(m.o.hash.max_n), int64_t(m.o.hash.words), m.o.dim}));
    a.write("idf", m.idf);
    a.write("bag", bag);
    a.write("proj", proj);
    a.save_to(tmp);
  });
}

TextEncoder TextEncoder::load(const std::string& path) {
  return guard_file_read(path, "text encoder file", [&] {
    LOOKALIKE_CHECK_FILE(util::file_exists(path), "text encoder file '", path, "' does not exist");
    torch::serialize::InputArchive a;
    c10::IValue format;
    torch::Tensor hash, idf;
    try {
      a.load_from(path);
      a.read("format", format);
      a.read("hash", hash);
      a.read("idf", idf);
    } catch (const c10::Error&) {
      throw FileError(detail::concat(
          "'", path, "' is not a lookalike text encoder (truncated or other format)"));
    }
    LOOKALIKE_CHECK_FILE(format.isString() && format.toStringRef() == "lookalike.TextEncoder/1",
                         "'", path, "' is not a lookalike text encoder");
    LOOKALIKE_CHECK_FILE(hash.defined() && hash.dim() == 1 && hash.numel() == 5 &&
                             hash.scalar_type() == torch::kLong,
                         "'", path, "': its hash options are not 5 integers");
    auto h = hash.accessor<int64_t, 1>();
    TextEncoderOptions o;
    o.hash.buckets = h[0], o.hash.min_n = int(h[1]), o.hash.max_n = int(h[2]),
    o.hash.words = h[3] != 0;
    o.dim = h[4];
    TextEncoder enc(o);
    torch::serialize::InputArchive bag, proj;
    a.read("bag", bag);
    a.read("proj", proj);
    enc.impl_->bag->load(bag);
    enc.impl_->proj->load(proj);
    enc.impl_->idf = idf;
    return enc;
  });
}

}  // namespace lookalike::dedup
