#include <cblas.h>

/* OpenBLAS's pthreads build starts its worker threads when the library loads, and idle workers
 * spin (sched_yield) for about 0.1 s before they sleep, taking another core. This stops them;
 * the next threaded BLAS call starts them again. A weak reference: builds of OpenBLAS without
 * the symbol (OpenMP, single-threaded) leave it NULL and nothing happens. */
void blas_thread_shutdown_(void) __attribute__((weak));

static inline void whittle_blas_stop_idle_threads(void) {
  if (blas_thread_shutdown_) blas_thread_shutdown_();
}

/* LAPACK's Cholesky solve of A X = B for symmetric positive definite A (column-major; OpenBLAS
 * ships LAPACK), used to refit a layer on the channels a width search keeps. */
void dposv_(const char *uplo, const int *n, const int *nrhs, double *a, const int *lda, double *b, const int *ldb, int *info);
