/* fuzz/fuzz_common.h — helpers shared by the harnesses (header-only,
 * file-local). Not part of the library.
 *
 * The IDX and CSV readers take a path, and neither has an in-memory
 * entry point, so each input is written to one anonymous in-memory file
 * (memfd_create, Linux ≥ 3.17), created once per process and rewritten
 * (ftruncate + pwrite) for every input; the readers open it as
 * /proc/self/fd/N, which gives them a fresh file description at offset 0.
 * Where memfd_create is missing (or /proc is not mounted) a file made by
 * mkstemp under $TMPDIR (default /tmp) is used instead and removed at exit.
 */
#ifndef NCO_FUZZ_COMMON_H
#define NCO_FUZZ_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

/* Traps (the fuzzer reports a crash) when a checked property fails; the
 * message goes to stderr first so that a replay names the property. */
#define FUZZ_CHECK(cond)                                                                   \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);          \
      fflush(stderr);                                                                      \
      __builtin_trap();                                                                    \
    }                                                                                      \
  } while (0)

static int fuzz_fd = -1;
static char fuzz_path[4096];
static char fuzz_tmp_path[4096]; /* mkstemp fallback, removed at exit */

__attribute__((unused)) static void fuzz_file_cleanup(void) {
  if (fuzz_tmp_path[0]) unlink(fuzz_tmp_path);
}

/* The path of a file holding exactly data[0..n): created on the first call,
 * rewritten on every call. Traps if no such file can be made (a harness
 * that cannot feed its target must not silently pass). */
__attribute__((unused)) static const char *fuzz_file(const uint8_t *data, size_t n) {
  if (fuzz_fd < 0) {
#if defined(__linux__)
    fuzz_fd = memfd_create("ncopt-fuzz", 0);
    if (fuzz_fd >= 0) {
      snprintf(fuzz_path, sizeof fuzz_path, "/proc/self/fd/%d", fuzz_fd);
      if (access(fuzz_path, R_OK) != 0) { /* no /proc */
        close(fuzz_fd);
        fuzz_fd = -1;
      }
    }
#endif
    if (fuzz_fd < 0) {
      const char *t = getenv("TMPDIR");
      snprintf(fuzz_tmp_path, sizeof fuzz_tmp_path, "%s/ncopt-fuzz-XXXXXX", t && *t ? t : "/tmp");
      fuzz_fd = mkstemp(fuzz_tmp_path);
      if (fuzz_fd < 0) {
        perror("fuzz: mkstemp");
        __builtin_trap();
      }
      snprintf(fuzz_path, sizeof fuzz_path, "%s", fuzz_tmp_path);
      atexit(fuzz_file_cleanup);
    }
  }
  if (ftruncate(fuzz_fd, 0) != 0) {
    perror("fuzz: ftruncate");
    __builtin_trap();
  }
  size_t off = 0;
  while (off < n) {
    ssize_t w = pwrite(fuzz_fd, data + off, n - off, (off_t)off);
    if (w <= 0) {
      perror("fuzz: pwrite");
      __builtin_trap();
    }
    off += (size_t)w;
  }
  return fuzz_path;
}

#endif
