# Sourced by scripts/sanitize.sh and scripts/fuzz.sh: configures build/sanitize (clang, ASan +
# UBSan, libFuzzer targets) when it is not yet, and sets the sanitizers' run-time options.
SANITIZE_BUILD=${SANITIZE_BUILD:-build/sanitize}
if [ ! -f "$SANITIZE_BUILD/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$SANITIZE_BUILD" -DLOOKALIKE_SANITIZE=address,undefined \
    -DLOOKALIKE_FUZZ=ON -DLOOKALIKE_PYTHON=OFF -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DCMAKE_C_FLAGS_DEBUG="-O1 -g"
fi
# detect_container_overflow=0: libtorch, FAISS and OpenCV are not instrumented, and a container
# they resize while instrumented code reads it is reported falsely (ASan's documented caveat).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_container_overflow=0:strict_string_checks=1:check_initialization_order=1:detect_stack_use_after_return=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)}
