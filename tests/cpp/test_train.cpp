#include <gtest/gtest.h>
#include <torch/torch.h>

#include "lookalike/error.h"
#include "lookalike/models/embed.h"
#include "lookalike/train/trainer.h"
#include "lookalike/util/files.h"

using namespace lookalike;

namespace {
// Two classes of 8x8 grey images: class 0 is bright on the top half, class 1 on the bottom.
data::Dataset bars(int64_t n, uint64_t seed) {
  auto g = torch::make_generator<at::CPUGeneratorImpl>(seed);
  auto labels = torch::randint(0, 2, {n}, g, torch::kLong);
  auto images = torch::rand({n, 1, 8, 8}, g).mul(0.3);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t top = labels[i].item<int64_t>() == 0 ? 0 : 4;
    images[i].narrow(1, top, 4).add_(0.6);
  }
  return {images.mul(255).to(torch::kUInt8), labels};
}

train::TrainOptions small_options(const std::string& ckpt = "") {
  train::TrainOptions o;
  o.epochs = 3;
  o.batch_size = 32;
  o.lr = 3e-3;
  o.model.channels = {8, 16};
  o.model.embedding_dim = 16;
  o.model.num_classes = 0;
  o.progress = "off";
  o.seed = 11;
  o.augment = "flip";
  o.checkpoint_dir = ckpt;
  return o;
}

std::string temp_dir(const std::string& name) {
  return util::make_temp_dir("lookalike_train_" + name + "_");
}
}  // namespace

TEST(Trainer, LearnsASeparableProblemAndLogsEachEpoch) {
  auto train_set = bars(512, 1), val_set = bars(256, 2);
  auto dir = temp_dir("learn");
  auto o = small_options();
  o.log_path = dir + "/log.jsonl";
  auto result = train::Trainer(o).fit(train_set, val_set);
  ASSERT_EQ(result.history.size(), 3u);
  EXPECT_GT(result.history.back().at("val_accuracy"), 0.95);
  EXPECT_LT(result.history.back().at("train_loss"), result.history.front().at("train_loss"));
  auto logged = util::from_json_lines(util::read_file(o.log_path));
  ASSERT_EQ(logged.size(), 3u);
  EXPECT_EQ(logged[2].at("epoch"), 3);
  EXPECT_DOUBLE_EQ(logged[2].at("val_accuracy"), result.history[2].at("val_accuracy"));
  auto out = models::infer(result.model, val_set.images, 100);
  EXPECT_EQ(out.embeddings.sizes(), (std::vector<int64_t>{256, 16}));
  EXPECT_TRUE(torch::allclose(out.embeddings.norm(2, 1), torch::ones({256}), 1e-5, 1e-5));
}

TEST(Trainer, ResumeIsBitIdenticalToAnUninterruptedRun) {
  auto train_set = bars(300, 3);
  auto dir = temp_dir("resume");
  auto full = train::Trainer(small_options(dir + "/a")).fit(train_set);

  // The same run, interrupted after its first epoch (the callback stands in for a kill).
  auto interrupted =
      train::Trainer(small_options(dir + "/b")).fit(train_set, {}, [](const util::Record&) {
        return false;
      });
  ASSERT_EQ(interrupted.history.size(), 1u);
  auto second = small_options(dir + "/b");
  second.resume = true;
  auto resumed = train::Trainer(second).fit(train_set);

  auto pa = full.model->named_parameters(), pb = resumed.model->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  auto ba = full.model->named_buffers(), bb = resumed.model->named_buffers();
  for (const auto& b : ba) EXPECT_TRUE(torch::equal(b.value(), bb[b.key()])) << b.key();
  ASSERT_EQ(resumed.history.size(), 3u);
  EXPECT_DOUBLE_EQ(resumed.history[2].at("train_loss"), full.history[2].at("train_loss"));

  // Resuming with other trajectory options is refused with the difference shown.
  auto other = second;
  other.lr = 1e-2;
  EXPECT_THROW(train::Trainer(other).fit(train_set), InvalidArgument);
  // A truncated checkpoint is reported, not half-loaded.
  const std::string ckpt = dir + "/b/checkpoint.pt";
  const std::string bytes = util::read_file(ckpt);
  util::write_file_atomic(ckpt, bytes.substr(0, bytes.size() / 3));
  EXPECT_THROW(train::Trainer(second).fit(train_set), FileError);
}

// Filters with state (two networks, a loss history that restarts training) resume exactly too.
TEST(Trainer, NoisyFiltersResumeBitIdentically) {
  auto train_set = bars(300, 3);
  for (const std::string filter : {"coteaching", "loss_history"}) {
    auto dir = temp_dir("resume-" + filter);
    auto opts = [&](const std::string& sub) {
      auto o = small_options(dir + sub);
      o.filter.filter = filter;
      o.filter.forget_rate = 0.3;
      o.filter.num_gradual = 1;
      o.filter.history_epochs = 1;  // detection in epoch 1, restart, retrain in epochs 2-3
      return o;
    };
    auto full = train::Trainer(opts("/a")).fit(train_set);
    train::Trainer(opts("/b")).fit(train_set, {}, [](const util::Record&) { return false; });
    auto second = opts("/b");
    second.resume = true;
    auto resumed = train::Trainer(second).fit(train_set);
    for (const auto& p : full.model->named_parameters())
      EXPECT_TRUE(torch::equal(p.value(), resumed.model->named_parameters()[p.key()]))
          << filter << " " << p.key();
    EXPECT_DOUBLE_EQ(resumed.history[2].at("kept_fraction"), full.history[2].at("kept_fraction"))
        << filter;
    EXPECT_NEAR(full.history[2].at("kept_fraction"), 0.7, 0.03) << filter;  // ceil per batch
  }
}

TEST(Trainer, SaveLoadModelGivesTheSameEmbeddings) {
  auto set = bars(128, 4);
  auto o = small_options();
  o.epochs = 1;
  auto result = train::Trainer(o).fit(set);
  auto dir = temp_dir("model");
  const std::string path = dir + "/m.pt";
  train::save_model(result.model, path);
  auto loaded = train::load_model(path);
  auto a = models::infer(result.model, set.images).embeddings;
  auto b = models::infer(loaded, set.images).embeddings;
  EXPECT_TRUE(torch::equal(a, b));
  util::write_file_atomic(path, "garbage");
  EXPECT_THROW(train::load_model(path), FileError);
}

TEST(Trainer, BadInput) {
  auto set = bars(64, 5);
  auto o = small_options();
  EXPECT_THROW(train::Trainer(o).fit({set.images.slice(0, 0, 60), set.labels}), InvalidArgument);
  EXPECT_THROW(train::Trainer(o).fit({set.images.to(torch::kDouble), set.labels}), InvalidArgument);
  EXPECT_THROW(train::Trainer(o).fit({set.images, set.labels.to(torch::kInt)}), InvalidArgument);
  auto nan_images = set.images.to(torch::kFloat).div(255);
  nan_images[0][0][0][0] = NAN;
  EXPECT_THROW(train::Trainer(o).fit({nan_images, set.labels}), InvalidArgument);
  auto bad = o;
  bad.optimizer = "lamb";
  EXPECT_THROW(train::Trainer(bad).fit(set), InvalidArgument);
  bad = o;
  bad.device = "tpu";
  EXPECT_THROW(train::Trainer(bad).fit(set), InvalidArgument);
  bad = o;
  bad.model.num_classes = 1;  // labels reach 1
  EXPECT_THROW(train::Trainer(bad).fit(set), InvalidArgument);
}

TEST(Trainer, CudaMixedPrecisionWhenAvailable) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  auto train_set = bars(512, 6), val_set = bars(256, 7);
  auto o = small_options();
  o.device = "cuda";
  auto result = train::Trainer(o).fit(train_set, val_set);
  EXPECT_GT(result.history.back().at("val_accuracy"), 0.95);
  auto cpu = models::infer(result.model, val_set.images, 128, "cpu").embeddings;
  auto gpu = models::infer(result.model, val_set.images, 128, "cuda").embeddings;
  EXPECT_TRUE(torch::allclose(cpu, gpu, 1e-3, 1e-3));
}
