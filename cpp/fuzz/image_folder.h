#pragma once
// A folder of two tiny valid images (a.png, b.png; 2 x 2 RGB) for the targets whose tables name
// image files (tag tables, image sets), so that their rows reach the decoding step.
#include <string>

#include "lookalike/util/files.h"

namespace lookalike::fuzz {

inline const std::string& image_folder() {
  static const std::string dir = [] {
    static const unsigned char png[] = {
        137, 80,  78,  71,  13,  10, 26, 10, 0,   0,  0,   13,  73,  72,  68, 82, 0,  0,  0,
        2,   0,   0,   0,   2,   8,  2,  0,  0,   0,  253, 212, 154, 115, 0,  0,  0,  16, 73,
        68,  65,  84,  120, 156, 99, 56, 33, 167, 1,  68,  12,  16,  10,  0,  32, 22, 4,  57,
        97,  230, 194, 234, 0,   0,  0,  0,  73,  69, 78,  68,  174, 66,  96, 130};
    const std::string d = util::make_temp_dir("lookalike-fuzz-images-");
    for (const char* name : {"a.png", "b.png"})
      util::write_file_atomic(util::join_path(d, name),
                              std::string(reinterpret_cast<const char*>(png), sizeof(png)));
    return d;
  }();
  return dir;
}

}  // namespace lookalike::fuzz
