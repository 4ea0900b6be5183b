/* Atomic files, the run's output sink, the run folder's lock and
 * housekeeping (ncopt/outputs.h, run_internal.h, run_state.h). */
#include "run_state.h"

/* ---- files ------------------------------------------------------------- */

/* Writes data to a new temporary file next to path (name into tmp) and
 * syncs it. */
int rs_write_tmp(const char *path, const void *data, size_t len, char *tmp, size_t cap) {
  if (snprintf(tmp, cap, "%s.tmp.XXXXXX", path) >= (int)cap) return nco_error(NCO_ERR_INVALID, "%s: path too long", path);
  int fd = mkstemp(tmp);
  if (fd < 0) return nco_error(NCO_ERR_IO, "%s: cannot create a temporary file: %s", path, strerror(errno));
  const char *p = data;
  size_t left = len;
  while (left) {
    ssize_t w = write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd), unlink(tmp);
      return nco_error(NCO_ERR_IO, "%s: write failed: %s", path, strerror(e));
    }
    p += w, left -= (size_t)w;
  }
  (void)fchmod(fd, nco_output_mode());
  if (fsync(fd) || close(fd)) {
    int e = errno;
    unlink(tmp);
    return nco_error(NCO_ERR_IO, "%s: fsync/close failed: %s", path, strerror(e));
  }
  return NCO_OK;
}

/* 0666 less the user's umask: what open(2) would give a new file (mkstemp
 * makes 0600). Read once; outputs are written from one thread. */
unsigned nco_output_mode(void) {
  static int mode = -1;
  if (mode < 0) {
    mode_t m = umask(0);
    umask(m);
    mode = (int)(0666 & ~m);
  }
  return (unsigned)mode;
}

int nco_write_file_atomic(const char *path, const void *data, size_t len) {
  char tmp[4200];
  int st = rs_write_tmp(path, data, len, tmp, sizeof tmp);
  if (st) return st;
  if (rename(tmp, path)) {
    int e = errno;
    unlink(tmp);
    return nco_error(NCO_ERR_IO, "%s: rename failed: %s", path, strerror(e));
  }
  return NCO_OK;
}

int nco_write_file_atomic_in(const char *dir, const char *name, const char *text) {
  char path[4400];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return nco_write_file_atomic(path, text, strlen(text));
}

/* ---- the output sink ---------------------------------------------------- */

/* Every file a run writes into its folder goes through the rs_out_* and
 * rs_trace_* calls below (spec.ini, trace.csv, checkpoints, summary.json,
 * params/aux.npy, params.json, regularity.csv, the plots): the one place
 * where, later, only one MPI rank writes. */

int rs_out_file(const run *r, const char *name, const void *data, size_t len) {
  char path[4400];
  snprintf(path, sizeof path, "%s/%s", r->dir, name);
  return nco_write_file_atomic(path, data, len);
}

int rs_out_npy_f32(const run *r, const char *name, const float *x, size_t n) {
  char path[4400];
  size_t shape[1] = {n};
  snprintf(path, sizeof path, "%s/%s", r->dir, name);
  return nco_npy_write_f32(path, x, 1, shape);
}

int rs_out_layer_map(const run *r, const char *name) {
  char path[4400];
  snprintf(path, sizeof path, "%s/%s", r->dir, name);
  return nco_nn_layer_map_write(r->pb, path);
}

int rs_out_plots(const run *r) { return nco_plot_run(r->dir); }

/* checkpoint.bin: the new checkpoint is complete on disk before the
 * previous good one becomes checkpoint.prev.bin: at any instant one of the
 * two loads */
int rs_out_checkpoint(const run *r, const void *data, size_t len) {
  char path[4200], prev[4200], tmp[4300];
  snprintf(path, sizeof path, "%s/checkpoint.bin", r->dir);
  snprintf(prev, sizeof prev, "%s/checkpoint.prev.bin", r->dir);
  int st = rs_write_tmp(path, data, len, tmp, sizeof tmp);
  if (st) return st;
  if (access(path, F_OK) == 0 && rename(path, prev)) {
    int e = errno;
    unlink(tmp);
    return nco_error(NCO_ERR_IO, "%s: cannot keep the previous checkpoint: %s", path, strerror(e));
  }
  if (rename(tmp, path)) {
    int e = errno;
    unlink(tmp);
    return nco_error(NCO_ERR_IO, "%s: rename failed: %s", path, strerror(e));
  }
  return NCO_OK;
}

/* DIR/trace.csv (its header written) opened for appending rows */
int rs_trace_open(run *r) {
  char path[4200];
  snprintf(path, sizeof path, "%s/trace.csv", r->dir);
  if ((r->trace_fd = open(path, O_WRONLY | O_APPEND)) < 0)
    return nco_error(NCO_ERR_IO, "%s: cannot open for appending: %s", path, strerror(errno));
  return NCO_OK;
}

/* Writes the buffered rows: whole rows, so a killed process leaves whole
 * rows; before every checkpoint (its step's rows are on disk) and before
 * the outputs (the plots read trace.csv). */
int rs_trace_flush(run *r) {
  buf_t *b = &r->row;
  size_t off = 0;
  while (off < b->n && r->trace_fd >= 0) {
    ssize_t w = write(r->trace_fd, b->p + off, b->n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int e = errno;
      return nco_error(NCO_ERR_IO, "%s/trace.csv: write failed: %s", r->dir, strerror(e));
    }
    off += (size_t)w;
  }
  b->n = 0, b->oom = 0;
  r->flush_wall = rs_now();
  return NCO_OK;
}

int nco_dir_lock(const char *dir, int *fd_out) {
  char path[4200];
  *fd_out = -1;
  snprintf(path, sizeof path, "%s/.ncopt.lock", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, (mode_t)nco_output_mode());
  if (fd < 0) return nco_error(NCO_ERR_IO, "%s: cannot create the lock file: %s", path, strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB)) {
    int e = errno;
    close(fd);
    if (e == EWOULDBLOCK)
      return nco_error(NCO_ERR_STATE, "%s: another ncopt process is writing this folder (it holds %s): wait for it to "
                       "finish, or use another --out", dir, path);
    return nco_error(NCO_ERR_IO, "%s: cannot lock: %s", path, strerror(e));
  }
  *fd_out = fd;
  return NCO_OK;
}

void nco_dir_unlock(int fd) {
  if (fd >= 0) close(fd); /* closing releases the flock */
}

int nco_mkdirs(const char *dir) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf) return nco_error(NCO_ERR_INVALID, "%s: path too long", dir);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(buf, 0755) && errno != EEXIST) return nco_error(NCO_ERR_IO, "%s: cannot create folder: %s", buf, strerror(errno));
    *p = '/';
  }
  if (mkdir(buf, 0755) && errno != EEXIST) return nco_error(NCO_ERR_IO, "%s: cannot create folder: %s", buf, strerror(errno));
  struct stat sb;
  if (stat(buf, &sb) || !S_ISDIR(sb.st_mode)) return nco_error(NCO_ERR_IO, "%s: not a folder", buf);
  return NCO_OK;
}

/* Removes the temporary files a killed process may have left in dir
 * ("NAME.tmp.XXXXXX" of the files written atomically). */
void nco_run_clean_tmp(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *de;
  while ((de = readdir(d))) {
    const char *t = strstr(de->d_name, ".tmp.");
    if (!t || strlen(t) != 11 || de->d_name[0] == '.') continue;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    unlink(path);
  }
  closedir(d);
}

static void remove_in(const char *dir, const char *name) {
  char path[4400];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  unlink(path);
}

/* a single run's files, or a sweep's (its points' folders stay) */
static const char *const run_files[] = {"checkpoint.bin", "checkpoint.prev.bin", "summary.json", "params.npy", "aux.npy",
                                        "params.json", "loss.png", "loss.svg", "probes.png", "probes.svg", "trace.csv",
                                        "spec.ini", "probes_signed.png", "probes_signed.svg", "regularity.csv",
                                        "regularity.png", "regularity.svg", "misfit_distance.png", "misfit_distance.svg",
                                        "layers.png", "layers.svg", "test.png", "test.svg", "certificate.json",
                                        "points.txt", "sweep.csv", "sweep_loss.png", "sweep_loss.svg",
                                        "sweep_loss_unreg.png", "sweep_loss_unreg.svg"};

void nco_run_remove_outputs(const char *dir) {
  for (size_t i = 0; i < sizeof run_files / sizeof *run_files; i++) remove_in(dir, run_files[i]);
  nco_run_clean_tmp(dir);
}

int nco_run_dir_has_outputs(const char *dir, const char **what) {
  char path[4400];
  for (size_t i = 0; i < sizeof run_files / sizeof *run_files; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, run_files[i]);
    if (!access(path, F_OK)) {
      if (what) *what = run_files[i];
      return 1;
    }
  }
  return 0;
}
