#ifndef WHITTLE_RUNTIME_H
#define WHITTLE_RUNTIME_H
/* The Whittle runtime: C99, no Swift, no malloc in invoke. This header is its one public face;
 * the loader, interpreter and kernels arrive with the int8 issue (see DESIGN.md §9). */

#define WT_FORMAT_VERSION 1

#ifdef __cplusplus
extern "C" {
#endif

/* "whittle-runtime MAJOR.MINOR (wtm format N)", a static string. */
const char *wt_runtime_version(void);

#ifdef __cplusplus
}
#endif
#endif
