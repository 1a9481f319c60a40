/* Counts heap allocations in a process (LD_PRELOAD=liballoc_count.so) and
 * prints the total when the process exits. bench/allocations.sh turns two
 * runs into allocations per connection. */
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>

extern void* __libc_malloc(size_t size);
extern void* __libc_calloc(size_t count, size_t size);
extern void* __libc_realloc(void* pointer, size_t size);

static atomic_ulong allocations;

void* malloc(size_t size) {
  atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
  return __libc_malloc(size);
}

void* calloc(size_t count, size_t size) {
  atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
  return __libc_calloc(count, size);
}

void* realloc(void* pointer, size_t size) {
  atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
  return __libc_realloc(pointer, size);
}

__attribute__((destructor)) static void report(void) {
  fprintf(stderr, "allocations: %lu\n", atomic_load(&allocations));
}
