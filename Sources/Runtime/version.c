#include "whittle_runtime.h"

#define WT_STRINGIFY(x) #x
#define WT_TO_STRING(x) WT_STRINGIFY(x)

const char *wt_runtime_version(void) { return "whittle-runtime 0.1 (wtm format " WT_TO_STRING(WT_FORMAT_VERSION) ")"; }
