#include "whittle_runtime.h"

const wt_scheme wt_schemes[WT_SCHEME_COUNT] = {
    [WT_SCHEME_INT8] = {"int8", 8, -127, 127},
    [WT_SCHEME_INT4] = {"int4", 4, -8, 7},
    [WT_SCHEME_INT2] = {"int2", 2, -2, 1},
    [WT_SCHEME_TERNARY] = {"ternary", 2, -1, 1},
};

size_t wt_scheme_bytes(uint32_t scheme, size_t count) {
  if (scheme >= WT_SCHEME_COUNT) return 0;
  return (count * wt_schemes[scheme].bits + 7) / 8;
}

void wt_scheme_unpack(uint32_t scheme, const uint8_t *packed, size_t count, int8_t *levels) {
  const unsigned bits = wt_schemes[scheme].bits, mask = (1u << bits) - 1u, sign = 1u << (bits - 1u);
  for (size_t i = 0; i < count; i++) {
    const unsigned code = ((unsigned)packed[i * bits / 8] >> (i * bits % 8)) & mask;
    levels[i] = (int8_t)((int)code - (int)((code & sign) << 1)); /* two's complement in `bits` bits */
  }
}
