#pragma once
// A caching CPU allocator for lookalike's own loops (training, inference), in the manner of
// PyTorch's CUDA caching allocator. glibc serves allocations of more than a few MiB (a batch's
// activations: 64 x 96 x 112 x 112 floats are 300 MiB) by mmap and gives them back by munmap,
// so every step the kernel maps and zeroes every page again: measured on 2 cores, MobileNetV2
// inference at 224 spent more system time than compute. Inside a CpuCacheScope, large blocks
// freed by a tensor are kept and handed to the next allocation of the same size class, so a loop
// that allocates the same shapes each step touches fresh pages only in its first step.
//
// The allocator is installed once as c10's CPU allocator; outside a scope (and on threads that
// are not in one) it forwards to the allocator it replaced, so other code in the process, such as
// a Python training loop, is unaffected. The cached blocks are freed when the last scope of the
// process ends.
#include <cstddef>
#include <cstdint>

namespace lookalike::util {

/// Marks the calling thread's allocations as cacheable while the object lives (nestable).
class CpuCacheScope {
 public:
  CpuCacheScope();
  ~CpuCacheScope();
  CpuCacheScope(const CpuCacheScope&) = delete;
  CpuCacheScope& operator=(const CpuCacheScope&) = delete;
};

/// Turns the cache on or off for the whole process (on by default); returns the previous
/// setting. Off: every allocation goes to the replaced allocator, scopes or not.
bool set_cpu_cache(bool on);

/// Counters since the process started: allocations served from the cache (hits), cacheable
/// allocations that were not (misses), and the bytes held free in the cache now.
struct CpuCacheStats {
  int64_t hits = 0;
  int64_t misses = 0;
  int64_t cached_bytes = 0;
};
CpuCacheStats cpu_cache_stats();

/// The size class a cacheable request of `bytes` is served with: requests below 1 MiB are not
/// cached (0); larger ones round up to a multiple of an eighth of their highest power of two
/// (at most 12.5 % more memory).
size_t cpu_cache_size_class(size_t bytes);

}  // namespace lookalike::util
