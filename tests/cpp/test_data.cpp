#include <gtest/gtest.h>
#include <torch/torch.h>
#include <zlib.h>

#include <fstream>
#include <set>

#include "lookalike/data/catalog.h"
#include "lookalike/data/csv.h"
#include "lookalike/data/idx.h"
#include "lookalike/data/image_io.h"
#include "lookalike/data/labels.h"
#include "lookalike/data/loader.h"
#include "lookalike/data/split.h"
#include "lookalike/error.h"
#include "lookalike/util/files.h"

using namespace lookalike;

namespace {
std::string temp_dir(const std::string& name) {
  return util::make_temp_dir("lookalike_test_" + name + "_");
}

void copy_file(const std::string& from, const std::string& to) {
  util::write_file_atomic(to, util::read_file(from));
}

std::string idx_bytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& values) {
  std::string s = {0, 0, 0x08, static_cast<char>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8)
      s.push_back(static_cast<char>((d >> shift) & 0xFF));
  }
  s.append(values.begin(), values.end());
  return s;
}

void write_gz(const std::string& path, const std::string& content) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  gzwrite(f, content.data(), static_cast<unsigned>(content.size()));
  gzclose(f);
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace

TEST(Idx, ReadsPlainAndGzip) {
  auto dir = temp_dir("idx");
  std::vector<uint8_t> v(2 * 3 * 4);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>(i * 7);
  const std::string bytes = idx_bytes({2, 3, 4}, v);
  util::write_file_atomic(dir + "/a.idx", bytes);
  write_gz(dir + "/a.idx.gz", bytes);
  for (auto name : {"a.idx", "a.idx.gz"}) {
    auto t = data::read_idx(dir + "/" + name);
    ASSERT_EQ(t.sizes(), (std::vector<int64_t>{2, 3, 4}));
    EXPECT_EQ(t[1][2][3].item<int>(), (23 * 7) % 256);
  }
}

TEST(Idx, CorruptFilesGiveErrorsNamingTheFile) {
  auto dir = temp_dir("idx_bad");
  const std::string good = idx_bytes({10}, std::vector<uint8_t>(10, 1));
  EXPECT_NE(error_of([&] { data::read_idx(dir + "/missing.gz"); }).find("missing.gz"),
            std::string::npos);
  util::write_file_atomic(dir + "/short", good.substr(0, good.size() - 3));
  EXPECT_NE(error_of([&] { data::read_idx(dir + "/short"); }).find("truncated"), std::string::npos);
  util::write_file_atomic(dir + "/trailing", good + "xx");
  EXPECT_NE(error_of([&] { data::read_idx(dir + "/trailing"); }).find("trailing"),
            std::string::npos);
  std::string wrong_type = good;
  wrong_type[2] = 0x0D;  // float
  util::write_file_atomic(dir + "/float", wrong_type);
  EXPECT_THROW(data::read_idx(dir + "/float"), FileError);
  util::write_file_atomic(dir + "/text", "hello, not idx");
  EXPECT_THROW(data::read_idx(dir + "/text"), FileError);
  // A gzip file cut in half: the stream does not end cleanly.
  write_gz(dir + "/cut.gz", idx_bytes({4000}, std::vector<uint8_t>(4000, 3)));
  std::string gz = util::read_file(dir + "/cut.gz");
  util::write_file_atomic(dir + "/cut.gz", gz.substr(0, gz.size() / 2));
  const std::string msg = error_of([&] { data::read_idx(dir + "/cut.gz"); });
  EXPECT_NE(msg.find("cut.gz"), std::string::npos) << msg;
}

TEST(Idx, FashionMnistWhenInstalled) {
  if (!util::file_exists(data::default_fashion_mnist_root() + "/t10k-labels-idx1-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist not installed";
  auto ds = data::fashion_mnist("test");
  EXPECT_EQ(ds.images.sizes(), (std::vector<int64_t>{10000, 1, 28, 28}));
  EXPECT_EQ(ds.labels.scalar_type(), torch::kLong);
  EXPECT_EQ(torch::bincount(ds.labels).min().item<int64_t>(), 1000);  // balanced classes
  EXPECT_THROW(data::fashion_mnist("validation"), InvalidArgument);
  EXPECT_THROW(data::fashion_mnist("test", "/nonexistent"), FileError);
}

TEST(Csv, QuotesNewlinesCrlfAndEmptyCells) {
  auto t = data::parse_csv(
      "id,title,colour\r\n1,\"Tempo 3.5\"\" Short, Pink\",\r\n2,\"two\nlines\",Blue\r\n3,,\n",
      "mem");
  ASSERT_EQ(t.header, (std::vector<std::string>{"id", "title", "colour"}));
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0][1], "Tempo 3.5\" Short, Pink");
  EXPECT_EQ(t.rows[0][2], "");
  EXPECT_EQ(t.rows[1][1], "two\nlines");
  EXPECT_EQ(t.rows[2][1], "");
  EXPECT_EQ(t.column("colour", "mem"), 2u);
  EXPECT_NE(error_of([&] { t.column("price", "mem"); }).find("price"), std::string::npos);
  EXPECT_NE(error_of([] { data::parse_csv("a,b\n1,2,3\n", "x.csv"); }).find("line 2"),
            std::string::npos);
  EXPECT_THROW(data::parse_csv("a,b\n1,\"open\n", "x.csv"), InvalidArgument);
  EXPECT_THROW(data::parse_csv("", "x.csv"), InvalidArgument);
}

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    real_ = data::default_catalog_root();
    if (real_.empty() || !data::have_image_io())
      GTEST_SKIP() << "no fashion-products data or OpenCV";
    dir_ = temp_dir("catalog");
    copy_file(real_ + "/images/10000.jpg", dir_ + "/images/1.jpg");
    copy_file(real_ + "/images/10001.jpg", dir_ + "/images/2.jpg");
  }
  std::string real_;
  std::string dir_;
};

TEST_F(CatalogTest, ReadsRowsWithImages) {
  util::write_file_atomic(
      dir_ + "/styles.csv",
      "id,articleType,productDisplayName\n1,Shirts,\"A, shirt\"\n2,,Jeans\n3,Tops,no image\n");
  data::CatalogOptions o;
  o.root = dir_;
  o.image_size = 32;
  o.required_columns = {"articleType"};
  auto cat = data::read_catalog(o);
  ASSERT_EQ(cat.size(), 2);
  EXPECT_EQ(cat.images.sizes(), (std::vector<int64_t>{2, 3, 32, 32}));
  EXPECT_EQ(cat.columns[1][1], "");  // empty cell kept as ""
  EXPECT_EQ(cat.columns[2][0], "A, shirt");
  EXPECT_GT(cat.images.to(torch::kFloat).std().item<double>(), 10.0);  // real pixels, not blank
  // Same pixels as decoding the file directly.
  EXPECT_TRUE(torch::equal(cat.images[0], data::read_image(dir_ + "/images/1.jpg", 32)));
}

TEST_F(CatalogTest, BadInputNamesTheFile) {
  data::CatalogOptions o;
  o.root = dir_;
  util::write_file_atomic(dir_ + "/styles.csv", "id,title\n1,a\n1,b\n");
  EXPECT_NE(error_of([&] { data::read_catalog(o); }).find("duplicate"), std::string::npos);
  util::write_file_atomic(dir_ + "/styles.csv", "id,title\n1,a\n");
  o.required_columns = {"articleType"};
  EXPECT_NE(error_of([&] { data::read_catalog(o); }).find("articleType"), std::string::npos);
  o.required_columns = {};
  // A truncated JPEG is an error naming the image, not a silently grey picture.
  const std::string jpg = util::read_file(dir_ + "/images/1.jpg");
  util::write_file_atomic(dir_ + "/images/1.jpg", jpg.substr(0, jpg.size() / 2));
  const std::string msg = error_of([&] { data::read_catalog(o); });
  EXPECT_NE(msg.find("1.jpg"), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  util::write_file_atomic(dir_ + "/images/1.jpg", "not an image at all");
  EXPECT_THROW(data::read_catalog(o), FileError);
  o.root = dir_ + "/nowhere";
  EXPECT_THROW(data::read_catalog(o), FileError);
}

TEST(Split, SeededStratifiedDisjoint) {
  auto labels = torch::arange(1000, torch::kLong).remainder(4);
  auto a = data::random_split(1000, 0.2, 5, labels);
  auto b = data::random_split(1000, 0.2, 5, labels);
  auto c = data::random_split(1000, 0.2, 6, labels);
  EXPECT_TRUE(torch::equal(a.first, b.first));
  EXPECT_FALSE(torch::equal(a.first, c.first));
  EXPECT_EQ(a.first.size(0), 200);
  EXPECT_EQ(a.second.size(0), 800);
  auto all = std::get<0>(torch::cat({a.first, a.second}).sort());
  EXPECT_TRUE(torch::equal(all, torch::arange(1000, torch::kLong)));
  auto per_class = torch::bincount(labels.index_select(0, a.first));
  EXPECT_TRUE(torch::equal(per_class, torch::full({4}, 50, torch::kLong)));
  EXPECT_THROW(data::random_split(10, 1.5, 0), InvalidArgument);
}

TEST(Loader, EpochCoversEverySampleOnceInASeededOrder) {
  auto images = torch::arange(103, torch::kUInt8).view({103, 1, 1, 1});
  auto labels = torch::arange(103, torch::kLong);
  data::LoaderOptions o;
  o.batch_size = 10;
  o.seed = 9;
  auto order = [&](int64_t epoch) {
    data::EpochLoader loader(images, labels, o, epoch);
    std::vector<int64_t> seen;
    while (auto b = loader.next()) {
      EXPECT_TRUE(torch::equal(b->labels, b->indices));
      EXPECT_TRUE(torch::allclose(b->images.view({-1}), b->indices.to(torch::kFloat) / 255.0));
      for (int64_t i = 0; i < b->indices.size(0); ++i)
        seen.push_back(b->indices[i].item<int64_t>());
    }
    return seen;
  };
  auto e0 = order(0), again = order(0), e1 = order(1);
  EXPECT_EQ(e0, again);
  EXPECT_NE(e0, e1);
  std::set<int64_t> unique(e0.begin(), e0.end());
  EXPECT_EQ(unique.size(), 103u);
  EXPECT_EQ(e0.size(), 103u);
}

TEST(Loader, FlipAugmentIsSeededAndFlips) {
  auto images = torch::arange(64 * 4, torch::kFloat).view({64, 1, 2, 2}).div(256);
  auto labels = torch::zeros({64}, torch::kLong);
  data::LoaderOptions o;
  o.batch_size = 64;
  o.shuffle = false;
  o.augment = "flip";
  auto first = [&] { return data::EpochLoader(images, labels, o, 0).next()->images; };
  auto a = first(), b = first();
  EXPECT_TRUE(torch::equal(a, b));
  auto flipped = images.flip({3});
  int n_flipped = 0;
  for (int i = 0; i < 64; ++i) {
    const bool same = torch::equal(a[i], images[i]), flip = torch::equal(a[i], flipped[i]);
    EXPECT_TRUE(same || flip);
    n_flipped += flip;
  }
  EXPECT_GT(n_flipped, 10);
  EXPECT_LT(n_flipped, 54);
  o.augment = "rotate";
  EXPECT_THROW(data::EpochLoader(images, labels, o, 0), InvalidArgument);
}

TEST(Labels, EncodedByFirstAppearanceFrequencyOrSortedValue) {
  const std::vector<std::string> v = {"shirt", "", "bag", "shirt", "cap", "bag", "shirt", ""};
  auto codes = [](const data::EncodedLabels& e) {
    return std::vector<int64_t>(e.codes.data_ptr<int64_t>(),
                                e.codes.data_ptr<int64_t>() + e.codes.numel());
  };
  data::LabelOptions o;  // first appearance, empty = -1
  auto e = data::encode_labels(v, o);
  EXPECT_EQ(codes(e), (std::vector<int64_t>{0, -1, 1, 0, 2, 1, 0, -1}));
  EXPECT_EQ(e.names, (std::vector<std::string>{"shirt", "bag", "cap"}));
  o.order = "frequency";  // shirt 3, bag 2, cap 1
  o.top = 2;
  e = data::encode_labels(v, o);
  EXPECT_EQ(codes(e), (std::vector<int64_t>{0, -1, 1, 0, -1, 1, 0, -1}));
  EXPECT_EQ(e.names, (std::vector<std::string>{"shirt", "bag"}));
  o.order = "sorted";
  o.top = 0;
  e = data::encode_labels(v, o);
  EXPECT_EQ(e.names, (std::vector<std::string>{"bag", "cap", "shirt"}));
  EXPECT_EQ(codes(e), (std::vector<int64_t>{2, -1, 0, 2, 1, 0, 2, -1}));
  // Ties in frequency keep first appearance: b and a both twice, b first.
  o.order = "frequency";
  e = data::encode_labels({"b", "a", "a", "b", "c"}, o);
  EXPECT_EQ(e.names, (std::vector<std::string>{"b", "a", "c"}));
  // Empty as a class of its own per row (duplicate groups).
  data::LabelOptions own;
  own.empty = "own";
  e = data::encode_labels(v, own);
  EXPECT_EQ(codes(e), (std::vector<int64_t>{0, 1, 2, 0, 3, 2, 0, 4}));
  EXPECT_EQ(e.names.size(), 5u);
  own.order = "frequency";
  EXPECT_THROW(data::encode_labels(v, own), InvalidArgument);
  o.order = "alphabetical";
  EXPECT_THROW(data::encode_labels(v, o), InvalidArgument);
}
