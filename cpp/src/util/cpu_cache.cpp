#include "lookalike/util/cpu_cache.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <torch/version.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
#define LOOKALIKE_ALLOCATE_CONST
#define LOOKALIKE_HAS_COPY_DATA 1
#else
#define LOOKALIKE_ALLOCATE_CONST const
#define LOOKALIKE_HAS_COPY_DATA 0
#endif

namespace lookalike::util {
namespace {

constexpr size_t kMinBytes = size_t(1) << 20;  // smaller requests: glibc's heap serves them well
constexpr size_t kMaxCachedBytes = size_t(8) << 30;  // free blocks kept at most (beyond: freed)

thread_local int t_depth = 0;  // this thread's open scopes

class CachingCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) LOOKALIKE_ALLOCATE_CONST override {
    const size_t size = cpu_cache_size_class(n);
    if (size == 0 || t_depth == 0 || !enabled.load()) return base->allocate(n);
    void* ptr = take(size);
    if (!ptr) {  // a new block (outside the lock: the system call may be slow)
      ptr = c10::alloc_cpu(size);
      std::lock_guard<std::mutex> lock(mutex_);
      live_[ptr] = size;
    }
    // The context is the pointer itself, as raw_allocate / raw_deallocate require.
    return {ptr, ptr, &release, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &release; }
#if LOOKALIKE_HAS_COPY_DATA
  void copy_data(void* dest, const void* src, std::size_t count) const override {
    std::memcpy(dest, src, count);
  }
#endif

  // Frees a block of ours into the cache (or to the system); anything else, which reaches us
  // through raw_deallocate, goes to the replaced allocator's deleter.
  static void release(void* ptr) {
    auto& self = instance();
    if (self.give_back(ptr)) return;
    const auto base_deleter = self.base->raw_deleter();
    base_deleter ? base_deleter(ptr) : c10::free_cpu(ptr);
  }

  static CachingCpuAllocator& instance() {
    static CachingCpuAllocator a;
    return a;
  }

  // Installs the allocator in c10 (once); the one it replaces serves everything uncached.
  void install() {
    std::call_once(installed_, [this] {
      base = c10::GetCPUAllocator();
      for (uint8_t priority = 1; priority < 255 && c10::GetCPUAllocator() != this; ++priority)
        c10::SetCPUAllocator(this, priority);
      if (c10::GetCPUAllocator() != this)
        throw std::runtime_error("lookalike: could not install the caching CPU allocator");
    });
  }

  void open() { scopes.fetch_add(1); }
  void close() {
    if (scopes.fetch_sub(1) == 1) drain();
  }

  CpuCacheStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return {hits_, misses_, static_cast<int64_t>(cached_)};
  }

  void drain() {
    std::vector<void*> blocks;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (scopes.load() > 0) return;  // a scope opened meanwhile: keep serving it
      for (auto& [size, list] : free_)
        for (void* p : list) blocks.push_back(p);
      free_.clear();
      cached_ = 0;
    }
    for (void* p : blocks) c10::free_cpu(p);
  }

  c10::Allocator* base = nullptr;
  std::atomic<bool> enabled{true};
  std::atomic<int> scopes{0};

 private:
  // A free block of the size class, recorded as live (one lock on the hot path); null: none.
  void* take(size_t size) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(size);
    if (it == free_.end() || it->second.empty()) {
      ++misses_;
      return nullptr;
    }
    ++hits_;
    void* p = it->second.back();
    it->second.pop_back();
    cached_ -= size;
    live_[p] = size;
    return p;
  }

  // Takes back a block this allocator made: kept for reuse while some scope is open, else
  // freed. False: `ptr` is not one of ours.
  bool give_back(void* ptr) {
    std::unique_lock<std::mutex> lock(mutex_);
    auto it = live_.find(ptr);
    if (it == live_.end()) return false;
    const size_t size = it->second;
    live_.erase(it);
    if (scopes.load() > 0 && enabled.load() && cached_ + size <= kMaxCachedBytes) {
      free_[size].push_back(ptr);
      cached_ += size;
    } else {
      lock.unlock();
      c10::free_cpu(ptr);
    }
    return true;
  }

  std::once_flag installed_;
  mutable std::mutex mutex_;
  mutable std::unordered_map<size_t, std::vector<void*>> free_;  // by size class
  mutable std::unordered_map<void*, size_t> live_;               // blocks in use: their size class
  mutable size_t cached_ = 0;
  mutable int64_t hits_ = 0, misses_ = 0;
};

}  // namespace

size_t cpu_cache_size_class(size_t bytes) {
  if (bytes < kMinBytes) return 0;
  size_t top = kMinBytes;
  while (top <= bytes / 2) top *= 2;  // the highest power of two <= bytes
  const size_t step = top / 8;
  return (bytes + step - 1) / step * step;
}

CpuCacheScope::CpuCacheScope() {
  auto& a = CachingCpuAllocator::instance();
  a.install();
  a.open();
  ++t_depth;
}

CpuCacheScope::~CpuCacheScope() {
  --t_depth;
  CachingCpuAllocator::instance().close();
}

bool set_cpu_cache(bool on) {
  auto& a = CachingCpuAllocator::instance();
  const bool was = a.enabled.exchange(on);
  if (!on) a.drain();
  return was;
}

CpuCacheStats cpu_cache_stats() { return CachingCpuAllocator::instance().stats(); }

}  // namespace lookalike::util
