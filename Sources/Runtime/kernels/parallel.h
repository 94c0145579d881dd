#ifndef WT_PARALLEL_H
#define WT_PARALLEL_H
/* Splitting a kernel's work over the interpreter's thread pool (threadpool.c). */

#include <stddef.h>

#include "whittle_runtime.h"

/* One task of a parallel loop, run on thread `thread` (0 is the caller), which indexes the
 * per-thread scratch. */
typedef void (*wt_task)(void *context, size_t task, size_t thread);

/* Runs tasks [0, tasks) over the pool's threads and returns when all are done; with no pool
 * (or one thread) runs them in order on the caller. Allocates nothing. */
void wt_parallel_for(wt_threadpool *pool, size_t tasks, wt_task task, void *context);

/* Bands of output rows a window op is split into: up to 8 when the pool has threads to share
 * them, else 1. `band_rows` receives the rows per band (the last band may have fewer). */
static inline size_t wt_row_bands(size_t rows, const wt_threadpool *pool, size_t *band_rows) {
  const size_t bands = wt_threadpool_threads(pool) > 1 ? (rows < 8 ? rows : 8) : 1;
  *band_rows = (rows + bands - 1) / bands;
  return (rows + *band_rows - 1) / *band_rows;
}

#endif
