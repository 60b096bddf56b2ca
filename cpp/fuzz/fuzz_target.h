#pragma once
// libFuzzer targets for the readers of outside input: the files a user hands lookalike (IDX,
// CSV, listings, images, tag tables, saved indexes / update logs / blobs, model / matcher /
// tagger files, pretrained weights, local feature files) and option JSON (configs and --set
// values reach C++ as JSON). One target per file in cpp/fuzz/:
//
//   LOOKALIKE_FUZZ_TARGET(idx, ".idx") { data::read_idx(input.path); }
//
// The body gets `input`: `path`, a file holding the fuzzer's bytes (named with the suffix given,
// since some readers go by the name), and `bytes`, the same bytes as a string. The contract
// checked on every input: the reader returns, or throws lookalike::Error (FileError /
// InvalidArgument) whose message names the input (`input.path`, or the `name` a target passes
// to expect_named). Anything else -- another exception type, a message that does not name the
// input, a sanitizer report, a hang, memory past libFuzzer's limit -- is a finding.
//
// Built two ways:
//  - with LOOKALIKE_LIBFUZZER (make fuzz: clang, build/sanitize) each file is the libFuzzer
//    program fuzz_<name>, and a finding aborts with the message;
//  - otherwise the files join the C++ test program, whose FuzzReplay tests run every target
//    over its seed corpus (tests/fuzz/corpus/<name>/) and the inputs that were once findings
//    (tests/fuzz/regressions/<name>/); a finding there is a test failure (fuzz::Finding).
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>
#include <typeinfo>

#include "lookalike/error.h"
#include "lookalike/util/files.h"
#include "lookalike/util/registry.h"

namespace lookalike::fuzz {

/// A broken contract (see above).
struct Finding : std::logic_error {
  using std::logic_error::logic_error;
};

/// One input: a file with the bytes and the bytes themselves.
struct Input {
  std::string path;
  std::string bytes;
};

using Target = std::function<void(const Input&)>;

struct TargetInfo {
  Target run;
  std::string suffix;  // of the input file's name (".idx", ".csv", ...)
};

/// The targets by name (the replay tests list them from here).
inline util::Registry<TargetInfo>& targets() {
  static util::Registry<TargetInfo> registry("fuzz target");
  return registry;
}

/// Writes `bytes` to a file of this process's temporary folder, named input<suffix>.
inline Input write_input(const uint8_t* data, size_t size, const std::string& suffix) {
  static const std::string dir = util::make_temp_dir("lookalike-fuzz-");
  static const bool cleanup = [] {
    std::atexit([] {
      for (const auto& name : util::list_dir(dir)) ::unlink(util::join_path(dir, name).c_str());
      ::rmdir(dir.c_str());
    });
    return true;
  }();
  (void)cleanup;
  Input input{util::join_path(dir, "input" + suffix),
              std::string(reinterpret_cast<const char*>(data), size)};
  util::write_file_atomic(input.path, input.bytes);
  return input;
}

/// Rewrites the input's file as its bytes followed by their CRC-32: the checksum util/blob.h ends a
/// saved index, update log or feature file with, so that the fuzzer's mutations reach the parsing
/// behind it (the `blob` target fuzzes the checksum itself). The seeds of such targets are saved
/// files without their last 4 bytes.
inline void append_checksum(const Input& input) {
  const auto sum = static_cast<uint32_t>(crc32(crc32(0L, Z_NULL, 0),
                                               reinterpret_cast<const Bytef*>(input.bytes.data()),
                                               static_cast<uInt>(input.bytes.size())));
  util::write_file_atomic(
      input.path, input.bytes + std::string(reinterpret_cast<const char*>(&sum), sizeof sum));
}

/// How many reads returned without an error in this process (the replay tests require a seed
/// of every target to be accepted, so that the corpus reaches past the first check).
inline int64_t& accepted() {
  static int64_t count = 0;
  return count;
}

/// Runs `read`; a lookalike::Error naming `name` is the expected refusal, anything else that
/// escapes is a Finding.
inline void expect_named(const std::string& name, const std::function<void()>& read) {
  try {
    read();
    ++accepted();
  } catch (const Error& e) {
    const std::string message = e.what();
    if (message.find(name) == std::string::npos)
      throw Finding("error does not name the input '" + name + "': " + message);
  } catch (const Finding&) {
    throw;
  } catch (const std::exception& e) {
    throw Finding(std::string("not a lookalike error (") + typeid(e).name() + "): " + e.what());
  } catch (...) {
    throw Finding("a non-std exception escaped");
  }
}

/// Runs one target on one input; in a libFuzzer program a Finding aborts.
inline void run_target(const std::string& name, const uint8_t* data, size_t size) {
  const TargetInfo& target = targets().get(name);
  const Input input = write_input(data, size, target.suffix);
  target.run(input);
}

}  // namespace lookalike::fuzz

#define LOOKALIKE_FUZZ_BODY_(name) lookalike_fuzz_body_##name
#ifdef LOOKALIKE_LIBFUZZER
#define LOOKALIKE_FUZZ_ENTRY_(name)                                               \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {       \
    try {                                                                         \
      ::lookalike::fuzz::run_target(#name, data, size);                           \
    } catch (const std::exception& e) {                                           \
      std::fprintf(stderr, "lookalike fuzz finding (%s): %s\n", #name, e.what()); \
      std::abort();                                                               \
    }                                                                             \
    return 0;                                                                     \
  }
#else
#define LOOKALIKE_FUZZ_ENTRY_(name)
#endif

/// Defines fuzz target `name` whose input files end in `suffix`; the body follows, with
/// `const lookalike::fuzz::Input& input` in scope, and runs the reader through expect_named.
#define LOOKALIKE_FUZZ_TARGET(name, suffix)                                               \
  static void LOOKALIKE_FUZZ_BODY_(name)(const ::lookalike::fuzz::Input& input);          \
  LOOKALIKE_REGISTER(::lookalike::fuzz::targets(), #name,                                 \
                     (::lookalike::fuzz::TargetInfo{LOOKALIKE_FUZZ_BODY_(name), suffix})) \
  LOOKALIKE_FUZZ_ENTRY_(name)                                                             \
  static void LOOKALIKE_FUZZ_BODY_(name)(const ::lookalike::fuzz::Input& input)
