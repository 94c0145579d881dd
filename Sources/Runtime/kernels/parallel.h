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

/* Output rows of a window op split into bands for threads: up to 8 when the pool has threads
 * to share them, else one band of every row. */
typedef struct {
  size_t count, size, rows; /* bands, rows per band (the last may have fewer), all rows */
} wt_bands;

static inline wt_bands wt_row_bands(size_t rows, const wt_threadpool *pool) {
  const size_t wanted = wt_threadpool_threads(pool) > 1 ? (rows < 8 ? rows : 8) : 1;
  const size_t size = (rows + wanted - 1) / wanted;
  const wt_bands bands = {(rows + size - 1) / size, size, rows};
  return bands;
}

/* Rows [*first, *end) of band `band`. */
static inline void wt_band_rows(const wt_bands *bands, size_t band, size_t *first, size_t *end) {
  *first = band * bands->size;
  *end = *first + bands->size < bands->rows ? *first + bands->size : bands->rows;
}

#endif
