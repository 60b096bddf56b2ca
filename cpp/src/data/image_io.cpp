#include "lookalike/data/image_io.h"

#include <omp.h>

#include <cstring>
#include <numeric>

#include "lookalike/error.h"
#include "lookalike/util/files.h"
#include "lookalike/util/threads.h"

#ifdef LOOKALIKE_HAVE_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace lookalike::data {

bool have_image_io() {
#ifdef LOOKALIKE_HAVE_OPENCV
  return true;
#else
  return false;
#endif
}

torch::Tensor read_image(const std::string& path, int size, int64_t* original) {
  LOOKALIKE_CHECK_ARG(size > 0, "read_image: size must be positive, got ", size);
#ifdef LOOKALIKE_HAVE_OPENCV
  LOOKALIKE_CHECK_FILE(util::file_exists(path), "image '", path, "' does not exist");
  const std::string bytes = util::read_file(path);
  LOOKALIKE_CHECK_FILE(!bytes.empty(), "image '", path, "' is empty (0 bytes)");
  const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() >= 2 && u[0] == 0xFF && u[1] == 0xD8) {
    // libjpeg decodes a truncated JPEG with only a warning (grey rows at the bottom); a complete
    // one ends with the end-of-image marker FF D9, possibly followed by a little padding.
    bool has_eoi = false;
    const size_t from = bytes.size() > 64 ? bytes.size() - 64 : 0;
    for (size_t i = bytes.size() - 1; i > from; --i) {
      if (u[i - 1] == 0xFF && u[i] == 0xD9) {
        has_eoi = true;
        break;
      }
    }
    LOOKALIKE_CHECK_FILE(has_eoi, "image '", path,
                         "' is a truncated JPEG (no end-of-image marker FF D9)");
  }
  cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
  cv::Mat bgr;
  try {
    bgr = cv::imdecode(raw, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {  // e.g. a header declaring more pixels than OpenCV allows
    throw FileError(detail::concat("image '", path, "' cannot be decoded: ", e.what()));
  }
  LOOKALIKE_CHECK_FILE(!bgr.empty(), "image '", path,
                       "' cannot be decoded (corrupt or not an image)");
  if (original) original[0] = bgr.cols, original[1] = bgr.rows;
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  if (rgb.rows != size || rgb.cols != size) {
    cv::Mat resized;
    const bool shrink = rgb.rows > size || rgb.cols > size;
    cv::resize(rgb, resized, cv::Size(size, size), 0, 0,
               shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
    rgb = resized;
  }
  if (!rgb.isContinuous()) rgb = rgb.clone();
  auto hwc = torch::from_blob(rgb.data, {size, size, 3}, torch::kUInt8);
  return hwc.permute({2, 0, 1}).contiguous();  // copies out of the cv::Mat
#else
  throw Error(detail::concat("read_image('", path,
                             "'): this build of lookalike has no image decoding (OpenCV was not "
                             "found at configure time)"));
#endif
}

torch::Tensor read_images(const std::vector<std::string>& paths, int size, int threads,
                          std::vector<char>* failed, torch::Tensor* sizes) {
  const int64_t n = static_cast<int64_t>(paths.size());
  auto out = torch::empty({n, 3, size, size}, torch::kUInt8);
  if (failed) failed->assign(paths.size(), 0);
  const int64_t bytes = int64_t{3} * size * size;
  uint8_t* dst = out.data_ptr<uint8_t>();
  if (sizes) *sizes = torch::zeros({n, 2}, torch::kLong);
  int64_t* original = sizes ? sizes->data_ptr<int64_t>() : nullptr;
  std::exception_ptr error;
#pragma omp parallel for num_threads(threads > 0 ? threads : util::get_threads()) \
    schedule(dynamic, 16)
  for (int64_t i = 0; i < n; ++i) {
    try {
      auto img =
          read_image(paths[static_cast<size_t>(i)], size, original ? original + 2 * i : nullptr);
      std::memcpy(dst + i * bytes, img.data_ptr<uint8_t>(), static_cast<size_t>(bytes));
    } catch (const FileError&) {
      if (failed) {
        (*failed)[static_cast<size_t>(i)] = 1;
      } else {
#pragma omp critical
        if (!error) error = std::current_exception();
      }
    } catch (...) {
#pragma omp critical
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  return out;
}

void check_bad_image(const std::string& bad_image, const std::string& where) {
  LOOKALIKE_CHECK_ARG(bad_image == "error" || bad_image == "skip", where,
                      ": bad_image must be error or skip, got '", bad_image, "'");
}

DecodedImages decode_images(const std::vector<std::string>& paths, int size, int threads,
                            const std::string& bad_image) {
  check_bad_image(bad_image, "decode_images");
  DecodedImages out;
  if (bad_image == "error") {
    out.images = read_images(paths, size, threads, nullptr, &out.sizes);
    out.kept.resize(paths.size());
    std::iota(out.kept.begin(), out.kept.end(), 0);
    return out;
  }
  std::vector<char> failed;
  out.images = read_images(paths, size, threads, &failed, &out.sizes);
  for (size_t i = 0; i < paths.size(); ++i)
    if (!failed[i]) out.kept.push_back(static_cast<int64_t>(i));
  if (out.kept.size() < paths.size()) {
    const auto kept = torch::tensor(out.kept, torch::kLong);
    out.images = out.images.index_select(0, kept);
    out.sizes = out.sizes.index_select(0, kept);
  }
  return out;
}

}  // namespace lookalike::data
