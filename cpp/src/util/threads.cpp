#include "lookalike/util/threads.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <omp.h>

#include <cstdlib>
#include <thread>

namespace lookalike::util {

int set_threads(int threads) {
  if (threads <= 0) {
    threads = static_cast<int>(std::thread::hardware_concurrency());
    // Processes of one run on this machine (torchrun's LOCAL_WORLD_SIZE) share its cores.
    if (const char* local = std::getenv("LOCAL_WORLD_SIZE"); local && std::atoi(local) > 1)
      threads /= std::atoi(local);
    if (threads <= 0) threads = 1;
  }
  at::set_num_threads(threads);
  omp_set_num_threads(threads);
  // OpenBLAS (the openmp flavour follows omp_set_num_threads, the pthreads one does not):
  // found at run time so that any BLAS the loader picked is handled.
  using SetFn = void (*)(int);
  if (auto fn = reinterpret_cast<SetFn>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    fn(threads);
  }
  return threads;
}

int get_threads() { return at::get_num_threads(); }

void limit_this_thread(int threads) { omp_set_num_threads(threads > 0 ? threads : 1); }

}  // namespace lookalike::util
