/* fuzz/replay_main.c — replays corpora through a harness without libFuzzer.
 *
 * Linked with one fuzz_*.c (which defines LLVMFuzzerTestOneInput), it calls
 * the harness once on every regular file named on the command line or
 * found (not recursively) in the directories named there, in sorted order,
 * and prints how many it ran. A harness that finds a defect traps or is
 * stopped by a sanitizer, so the exit status is that of the crash; a clean
 * run exits 0. An argument that is neither a file nor a directory, an
 * unreadable file, or no input at all is exit status 2. ctest runs one
 * replay per harness over fuzz/corpus/<harness> (fuzz/CMakeLists.txt).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: cannot open %s\n", path);
    return -1;
  }
  size_t cap = 4096, n = 0, k;
  unsigned char *buf = malloc(cap);
  if (!buf) {
    fclose(f);
    return -1;
  }
  while ((k = fread(buf + n, 1, cap - n, f)) > 0) {
    n += k;
    if (n == cap) {
      unsigned char *q = realloc(buf, 2 * cap);
      if (!q) {
        free(buf);
        fclose(f);
        return -1;
      }
      buf = q;
      cap *= 2;
    }
  }
  int err = ferror(f);
  fclose(f);
  if (err) {
    fprintf(stderr, "replay: read error on %s\n", path);
    free(buf);
    return -1;
  }
  /* An exact-size copy, so that ASan sees a read past the input's end. */
  unsigned char *exact = malloc(n ? n : 1);
  if (!exact) {
    free(buf);
    return -1;
  }
  memcpy(exact, buf, n);
  free(buf);
  fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
  LLVMFuzzerTestOneInput(exact, n);
  free(exact);
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
  size_t ran = 0;
  int bad = 0;
  for (int i = 1; i < argc; i++) {
    struct stat sb;
    if (stat(argv[i], &sb) != 0) {
      fprintf(stderr, "replay: %s: no such file or directory\n", argv[i]);
      bad = 1;
      continue;
    }
    if (!S_ISDIR(sb.st_mode)) {
      if (run_file(argv[i])) bad = 1;
      else ran++;
      continue;
    }
    DIR *d = opendir(argv[i]);
    if (!d) {
      fprintf(stderr, "replay: cannot open directory %s\n", argv[i]);
      bad = 1;
      continue;
    }
    char **names = NULL;
    size_t nn = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
      if (e->d_name[0] == '.') continue;
      size_t len = strlen(argv[i]) + strlen(e->d_name) + 2;
      char *p = malloc(len);
      if (!p) break;
      snprintf(p, len, "%s/%s", argv[i], e->d_name);
      if (stat(p, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        free(p);
        continue;
      }
      if (nn == cap) {
        cap = cap ? 2 * cap : 64;
        char **q = realloc(names, cap * sizeof *q);
        if (!q) {
          free(p);
          break;
        }
        names = q;
      }
      names[nn++] = p;
    }
    closedir(d);
    if (nn) qsort(names, nn, sizeof *names, cmp_str);
    for (size_t j = 0; j < nn; j++) {
      if (run_file(names[j])) bad = 1;
      else ran++;
      free(names[j]);
    }
    free(names);
  }
  printf("replay: %zu inputs ran\n", ran);
  if (ran == 0) {
    fprintf(stderr, "replay: no inputs\n");
    return 2;
  }
  return bad ? 2 : 0;
}
