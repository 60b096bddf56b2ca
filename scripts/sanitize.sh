#!/usr/bin/env bash
# make test-sanitize: the core and the C++ tests built by clang with AddressSanitizer and
# UndefinedBehaviorSanitizer (build/sanitize, the build the fuzz targets share: scripts/fuzz.sh),
# then every C++ test under them. Any report fails the run: UBSan stops at its first report
# (-fno-sanitize-recover=all), ASan at its first error, LeakSanitizer at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/sanitize_env.sh
cmake --build "$SANITIZE_BUILD" --target lookalike_tests -j "${JOBS:-$(nproc)}"
ctest --test-dir "$SANITIZE_BUILD" --output-on-failure -j1 "$@"
