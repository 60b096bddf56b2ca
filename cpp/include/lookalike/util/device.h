#pragma once
#include <string>

#include <c10/core/Device.h>

namespace lookalike::util {

/// Parses "cpu", "cuda" or "cuda:N"; throws InvalidArgument for anything else, and when a CUDA
/// device is asked for but this build or machine has none.
c10::Device parse_device(const std::string& device);

/// True when this process can use a CUDA device.
bool cuda_available();

}  // namespace lookalike::util
