/* Mutates a valid .wtm every way a damaged file can be damaged and feeds each copy to the loader
 * (and, when it is accepted, to the interpreter). Built with -fsanitize=address,undefined by
 * `make runtime-fuzz`: any out-of-bounds read, overflow or crash fails the run.
 *
 *   fuzz_wtm MODEL.wtm [MUTATIONS]
 *
 * Mutations: every truncation length up to the end of the records; single bytes flipped
 * without fixing the CRC (must all be refused); single bytes and 32-bit fields overwritten with
 * the CRC recomputed, so the structural checks are what must catch them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whittle_runtime.h"

static uint64_t state = 0x9e3779b97f4a7c15u;
static uint32_t next_random(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return (uint32_t)(state >> 16);
}

static void fix_crc(uint8_t *bytes, size_t size) {
  if (size < sizeof(wt_header)) return;
  uint32_t crc = wt_crc32(bytes + sizeof(wt_header), size - sizeof(wt_header));
  memcpy(bytes + offsetof(wt_header, payload_crc32), &crc, 4);
}

/* Loads a copy of exactly `size` bytes (so ASan sees reads past its end) and runs it if accepted. */
static int try_load(const uint8_t *bytes, size_t size, int *accepted) {
  uint8_t *copy = malloc(size ? size : 1); /* malloc is 16-byte aligned; exactly `size` bytes */
  if (copy == NULL) return 1;
  memcpy(copy, bytes, size);
  wt_model model;
  wt_status status = wt_model_load(&model, copy, size);
  if (status == WT_OK) {
    size_t arena_size = wt_model_arena_size(&model);
    uint8_t *arena = malloc(arena_size + 1);
    wt_interpreter it;
    if (arena == NULL || wt_interpreter_init(&it, &model, arena, arena_size) != WT_OK) return 1;
    memset(arena, 0x80, arena_size);
    if (wt_invoke(&it) != WT_OK) return 1;
    free(arena);
    (*accepted)++;
  }
  free(copy);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: fuzz_wtm MODEL.wtm [MUTATIONS]\n");
    return 2;
  }
  const long mutations = argc > 2 ? atol(argv[2]) : 3000;
  FILE *file = fopen(argv[1], "rb");
  if (file == NULL) {
    fprintf(stderr, "cannot open %s\n", argv[1]);
    return 2;
  }
  fseek(file, 0, SEEK_END);
  const size_t size = (size_t)ftell(file);
  fseek(file, 0, SEEK_SET);
  uint8_t *good = malloc(size), *work = malloc(size);
  if (good == NULL || work == NULL || fread(good, 1, size, file) != size) return 2;
  fclose(file);

  int accepted = 0, failures = 0;
  if (try_load(good, size, &accepted) || accepted != 1) {
    fprintf(stderr, "the unmutated model does not load and run\n");
    return 1;
  }
  wt_model model;
  uint8_t *aligned = malloc(size);
  memcpy(aligned, good, size);
  wt_model_load(&model, aligned, size);
  /* The records end where the data section begins; mutations aim there. */
  const size_t records_end = (size_t)(model.data - model.bytes);

  accepted = 0;
  for (size_t length = 0; length < records_end; length += 1 + length / 64) failures += try_load(good, length, &accepted);
  if (accepted != 0) {
    fprintf(stderr, "a truncated file was accepted\n");
    return 1;
  }
  for (long i = 0; i < mutations / 4; i++) {
    memcpy(work, good, size);
    work[sizeof(wt_header) + next_random() % (size - sizeof(wt_header))] ^= (uint8_t)(1 + next_random() % 255);
    failures += try_load(work, size, &accepted);
  }
  if (accepted != 0) {
    fprintf(stderr, "a file with a bad checksum was accepted\n");
    return 1;
  }
  int structural_accepted = 0;
  for (long i = 0; i < mutations; i++) {
    memcpy(work, good, size);
    const size_t at = next_random() % records_end;
    if (i % 2 == 0) {
      work[at] ^= (uint8_t)(1 + next_random() % 255);
    } else if (at + 4 <= size) {
      const uint32_t values[] = {0, 1, 0xffffffffu, 0x7fffffffu, 0x80000000u, next_random(), 255, 256, 64};
      memcpy(work + (at & ~(size_t)3), &values[next_random() % 9], 4);
    }
    fix_crc(work, size);
    failures += try_load(work, size, &structural_accepted);
  }
  printf("fuzz_wtm: %zu-byte model, %ld structural mutations (%d accepted and run without fault), truncations and "
         "checksum flips all refused\n",
         size, mutations, structural_accepted);
  free(aligned);
  free(good);
  free(work);
  return failures != 0;
}
