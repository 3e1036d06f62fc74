// Counting replacements of every replaceable global operator new/delete (see
// alloc_counter.h). They allocate with malloc/aligned_alloc and free with free, so they
// stay compatible with AddressSanitizer, which intercepts those.
#include "bench/alloc_counter.h"

#include <malloc.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace acd::bench {
namespace {

std::atomic<std::int64_t> g_live_bytes{0};
std::atomic<std::uint64_t> g_allocations{0};

void* counted_alloc(std::size_t size, std::size_t alignment) noexcept {
  if (size == 0) size = 1;
  void* p = nullptr;
  if (alignment <= __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
    p = std::malloc(size);
  } else {
    // aligned_alloc wants a size that is a multiple of the alignment.
    p = std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
  }
  if (p != nullptr) {
    g_live_bytes.fetch_add(static_cast<std::int64_t>(malloc_usable_size(p)),
                           std::memory_order_relaxed);
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
  return p;
}

void* counted_alloc_or_throw(std::size_t size, std::size_t alignment) {
  for (;;) {
    if (void* p = counted_alloc(size, alignment)) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

void counted_free(void* p) noexcept {
  if (p == nullptr) return;
  g_live_bytes.fetch_sub(static_cast<std::int64_t>(malloc_usable_size(p)),
                         std::memory_order_relaxed);
  std::free(p);
}

constexpr std::size_t kDefaultAlign = __STDCPP_DEFAULT_NEW_ALIGNMENT__;

}  // namespace

std::int64_t live_heap_bytes() {
  return g_live_bytes.load(std::memory_order_relaxed);
}
std::uint64_t allocation_count() {
  return g_allocations.load(std::memory_order_relaxed);
}

}  // namespace acd::bench

void* operator new(std::size_t size) {
  return acd::bench::counted_alloc_or_throw(size, acd::bench::kDefaultAlign);
}
void* operator new[](std::size_t size) {
  return acd::bench::counted_alloc_or_throw(size, acd::bench::kDefaultAlign);
}
void* operator new(std::size_t size, std::align_val_t al) {
  return acd::bench::counted_alloc_or_throw(size, static_cast<std::size_t>(al));
}
void* operator new[](std::size_t size, std::align_val_t al) {
  return acd::bench::counted_alloc_or_throw(size, static_cast<std::size_t>(al));
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return acd::bench::counted_alloc(size, acd::bench::kDefaultAlign);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return acd::bench::counted_alloc(size, acd::bench::kDefaultAlign);
}
void* operator new(std::size_t size, std::align_val_t al, const std::nothrow_t&) noexcept {
  return acd::bench::counted_alloc(size, static_cast<std::size_t>(al));
}
void* operator new[](std::size_t size, std::align_val_t al, const std::nothrow_t&) noexcept {
  return acd::bench::counted_alloc(size, static_cast<std::size_t>(al));
}

void operator delete(void* p) noexcept {
  acd::bench::counted_free(p);
}
void operator delete[](void* p) noexcept {
  acd::bench::counted_free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  acd::bench::counted_free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  acd::bench::counted_free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  acd::bench::counted_free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  acd::bench::counted_free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  acd::bench::counted_free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  acd::bench::counted_free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  acd::bench::counted_free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  acd::bench::counted_free(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  acd::bench::counted_free(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  acd::bench::counted_free(p);
}
