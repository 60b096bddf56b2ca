#pragma once
// While alive, OpenCV's own parallel loops run serially (cv::setNumThreads(1)), restored after:
// used where lookalike already runs one image or one pair per OpenMP thread, so that OpenCV's
// pool does not oversubscribe the cores. cv::setNumThreads is process-wide. parallel_rows runs
// such a loop: OpenMP over rows, OpenCV serial inside, the first exception rethrown after.
#include <cstdint>
#include <exception>

#include "lookalike/util/threads.h"

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

/// body(i) for i in [0, n) over `threads` OpenMP threads (<= 0: get_threads()), dynamic chunks
/// of `chunk`, OpenCV serial while it runs; the first exception a body throws is rethrown.
template <class Body>
void parallel_rows(int64_t n, int threads, Body&& body, int chunk = 1) {
  const int t = threads > 0 ? threads : get_threads();
  OpenCvSerial serial(t > 1 && n > 1);
  std::exception_ptr error;
#pragma omp parallel for num_threads(t) schedule(dynamic, chunk)
  for (int64_t i = 0; i < n; ++i) {
    try {
      body(i);
    } catch (...) {
#pragma omp critical
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace lookalike::util
