#pragma once
// While alive, OpenCV's own parallel loops run serially (cv::setNumThreads(1)), restored after:
// used where lookalike already runs one image or one pair per OpenMP thread, so that OpenCV's
// pool does not oversubscribe the cores. cv::setNumThreads is process-wide.
#ifdef LOOKALIKE_HAVE_OPENCV
#include <opencv2/core/utility.hpp>
#endif

namespace lookalike::util {

class OpenCvSerial {
 public:
  explicit OpenCvSerial(bool on) {
#ifdef LOOKALIKE_HAVE_OPENCV
    if (on) {
      previous_ = cv::getNumThreads();
      cv::setNumThreads(1);
    }
#endif
  }
  ~OpenCvSerial() {
#ifdef LOOKALIKE_HAVE_OPENCV
    if (previous_ >= 0) cv::setNumThreads(previous_);
#endif
  }
  OpenCvSerial(const OpenCvSerial&) = delete;
  OpenCvSerial& operator=(const OpenCvSerial&) = delete;

 private:
  int previous_ = -1;
};

}  // namespace lookalike::util
