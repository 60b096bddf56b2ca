#pragma once
// Private to train/: training progress on stderr (TrainOptions::progress).
#include <chrono>
#include <cstdio>
#include <string>

#include <unistd.h>

#include "lookalike/util/json.h"

namespace lookalike::train::detail {

using Clock = std::chrono::steady_clock;

inline std::string format_duration(double s) {
  const long t = static_cast<long>(std::max(0.0, s));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  return buf;
}

// Training progress on stderr: a bar with ETA redrawn ~5 times/s on a terminal ("bar"), one line
// per epoch with elapsed time and ETA in a log ("lines"), or nothing ("off").
struct Progress {
  enum class Mode { off, bar, lines } mode = Mode::off;
  Clock::time_point last{};
  Clock::time_point start = Clock::now();
  void update(int epoch, int epochs, int64_t batch, int64_t batches, double items_per_s,
              double loss, double eta_s) {
    if (mode != Mode::bar) return;
    const auto now = Clock::now();
    if (batch < batches && now - last < std::chrono::milliseconds(200)) return;  // ~5 redraws/s
    last = now;
    const int width = 20;
    const int filled = batches > 0 ? static_cast<int>(width * batch / batches) : width;
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\repoch %d/%d [%s] %5.0f img/s  loss %.4f  ETA %s   ", epoch, epochs,
                 bar.c_str(), items_per_s, loss, format_duration(eta_s).c_str());
    std::fflush(stderr);
  }
  // After each epoch: ends the bar's line, or writes the epoch's line (loss, speed, val metrics).
  void epoch_done(int epoch, int epochs, int first_epoch, const util::Record& rec) {
    if (mode == Mode::bar) std::fprintf(stderr, "\n");
    if (mode != Mode::lines) return;
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const double eta = elapsed / std::max(1, epoch + 1 - first_epoch) * (epochs - epoch - 1);
    std::string vals;
    for (const auto& [key, value] : rec)
      if (key.rfind("val_", 0) == 0 && vals.size() < 80) vals += "  " + key + " " + fmt4(value);
    std::fprintf(stderr, "[train] epoch %d/%d  loss %.4f  %.0f img/s%s  (%s elapsed, ETA %s)\n",
                 epoch + 1, epochs, rec.at("train_loss"), rec.at("items_per_second"), vals.c_str(),
                 format_duration(elapsed).c_str(), format_duration(eta).c_str());
    std::fflush(stderr);
  }
  static std::string fmt4(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
  }
};

/// The mode TrainOptions::progress names: "on" a bar, "lines", "off", "auto" a bar when stderr
/// is a terminal, else lines.
inline Progress::Mode progress_mode(const std::string& option) {
  const bool tty = ::isatty(fileno(stderr));
  return option == "on" || (option == "auto" && tty) ? Progress::Mode::bar
         : option == "lines" || option == "auto"     ? Progress::Mode::lines
                                                     : Progress::Mode::off;
}

}  // namespace lookalike::train::detail
