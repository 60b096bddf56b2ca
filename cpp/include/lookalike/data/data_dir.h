#pragma once
// Where the shared data sets live: the one search every reader uses.
#include <string>
#include <vector>

namespace lookalike::data {

/// The folder of shared data set `name` ("fashion-products", "shopee-dev", ...):
/// $LOOKALIKE_DATA/<name> when that variable is set, else ../shared/data/<name> (or
/// shared/data/<name>) searched upwards from the working directory, then from each of `starts`.
/// Empty when not found.
std::string shared_data_dir(const std::string& name, const std::vector<std::string>& starts = {});

}  // namespace lookalike::data
