#include "lookalike/util/device.h"

#include <torch/cuda.h>

#include "lookalike/error.h"

namespace lookalike::util {

bool cuda_available() { return torch::cuda::is_available(); }

c10::Device parse_device(const std::string& device) {
  if (device == "cpu") return c10::Device(c10::kCPU);
  if (device == "cuda" || device.rfind("cuda:", 0) == 0) {
    int index = 0;
    if (device.size() > 5) {
      try {
        size_t used = 0;
        index = std::stoi(device.substr(5), &used);
        LOOKALIKE_CHECK_ARG(used == device.size() - 5 && index >= 0, "device '", device,
                            "': expected 'cuda:N' with N >= 0");
      } catch (const std::logic_error&) {
        throw InvalidArgument(
            detail::concat("device '", device, "': expected 'cuda:N' with N >= 0"));
      }
    }
    LOOKALIKE_CHECK_ARG(cuda_available(), "device '", device,
                        "' asked for, but no CUDA device is available to this build");
    LOOKALIKE_CHECK_ARG(index < static_cast<int>(torch::cuda::device_count()), "device '", device,
                        "': only ", torch::cuda::device_count(), " CUDA device(s)");
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw InvalidArgument(
      detail::concat("unknown device '", device, "': expected 'cpu', 'cuda' or 'cuda:N'"));
}

}  // namespace lookalike::util
