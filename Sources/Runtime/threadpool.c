/* A small pthreads pool: workers wait for a new generation (spinning a little first, since
 * ops follow each other within microseconds, then sleeping on a condition variable), claim
 * task indices with an atomic counter, and the caller works too. Building with WT_NO_THREADS
 * (firmware without pthreads) gives pools of one thread, the caller. */
#include <stdlib.h>

#include "kernels/parallel.h"

#if !defined(WT_NO_THREADS)
#include <pthread.h>

struct wt_threadpool;

typedef struct {
  struct wt_threadpool *pool;
  size_t thread;
} worker_start;

struct wt_threadpool {
  unsigned threads; /* the caller plus the workers started */
  pthread_t workers[WT_MAX_THREADS];
  worker_start starts[WT_MAX_THREADS];
  pthread_mutex_t lock;
  pthread_cond_t start;
  unsigned long generation;
  unsigned active;
  int stop;
  wt_task task;
  void *context;
  size_t tasks, next;
};

#define SPINS 200000

static inline void pause_briefly(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

static void run_tasks(wt_threadpool *pool, size_t thread) {
  for (;;) {
    const size_t t = __atomic_fetch_add(&pool->next, 1, __ATOMIC_RELAXED);
    if (t >= pool->tasks) return;
    pool->task(pool->context, t, thread);
  }
}

static void *worker(void *argument) {
  const worker_start *start = (const worker_start *)argument;
  wt_threadpool *pool = start->pool;
  unsigned long seen = 0;
  for (;;) {
    for (int i = 0; i < SPINS && __atomic_load_n(&pool->generation, __ATOMIC_ACQUIRE) == seen; i++) pause_briefly();
    pthread_mutex_lock(&pool->lock);
    while (__atomic_load_n(&pool->generation, __ATOMIC_ACQUIRE) == seen && !pool->stop)
      pthread_cond_wait(&pool->start, &pool->lock);
    if (pool->stop) {
      pthread_mutex_unlock(&pool->lock);
      return NULL;
    }
    seen = __atomic_load_n(&pool->generation, __ATOMIC_ACQUIRE);
    pthread_mutex_unlock(&pool->lock);
    run_tasks(pool, start->thread);
    __atomic_sub_fetch(&pool->active, 1, __ATOMIC_RELEASE);
  }
}

wt_threadpool *wt_threadpool_create(unsigned threads) {
  if (threads < 1 || threads > WT_MAX_THREADS) return NULL;
  wt_threadpool *pool = calloc(1, sizeof *pool);
  if (pool == NULL) return NULL;
  pool->threads = 1;
  pthread_mutex_init(&pool->lock, NULL);
  pthread_cond_init(&pool->start, NULL);
  for (unsigned i = 1; i < threads; i++) {
    pool->starts[i].pool = pool;
    pool->starts[i].thread = i;
    if (pthread_create(&pool->workers[i], NULL, worker, &pool->starts[i]) != 0) break;
    pool->threads++;
  }
  if (pool->threads < threads) {
    wt_threadpool_destroy(pool);
    return NULL;
  }
  return pool;
}

void wt_threadpool_destroy(wt_threadpool *pool) {
  if (pool == NULL) return;
  pthread_mutex_lock(&pool->lock);
  pool->stop = 1;
  pthread_cond_broadcast(&pool->start);
  pthread_mutex_unlock(&pool->lock);
  for (unsigned i = 1; i < pool->threads; i++) pthread_join(pool->workers[i], NULL);
  pthread_mutex_destroy(&pool->lock);
  pthread_cond_destroy(&pool->start);
  free(pool);
}

unsigned wt_threadpool_threads(const wt_threadpool *pool) { return pool != NULL ? pool->threads : 1; }

void wt_parallel_for(wt_threadpool *pool, size_t tasks, wt_task task, void *context) {
  if (pool == NULL || pool->threads == 1 || tasks <= 1) {
    for (size_t t = 0; t < tasks; t++) task(context, t, 0);
    return;
  }
  pthread_mutex_lock(&pool->lock);
  pool->task = task;
  pool->context = context;
  pool->tasks = tasks;
  pool->next = 0;
  pool->active = pool->threads - 1;
  __atomic_add_fetch(&pool->generation, 1, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&pool->start);
  pthread_mutex_unlock(&pool->lock);
  run_tasks(pool, 0);
  while (__atomic_load_n(&pool->active, __ATOMIC_ACQUIRE) > 0) pause_briefly();
}
#else
struct wt_threadpool {
  unsigned threads;
};

wt_threadpool *wt_threadpool_create(unsigned threads) {
  static wt_threadpool one = {1};
  return threads == 1 ? &one : NULL;
}

void wt_threadpool_destroy(wt_threadpool *pool) { (void)pool; }

unsigned wt_threadpool_threads(const wt_threadpool *pool) { return pool != NULL ? pool->threads : 1; }

void wt_parallel_for(wt_threadpool *pool, size_t tasks, wt_task task, void *context) {
  (void)pool;
  for (size_t t = 0; t < tasks; t++) task(context, t, 0);
}
#endif
