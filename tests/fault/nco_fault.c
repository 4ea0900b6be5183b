/* nco_fault: an LD_PRELOAD shim that injects faults into the `ncopt`
 * command without any change to the library (SQLite's method: fail the
 * K-th operation, for every K). Used by tests/test_faults.sh.
 *
 * Environment:
 *   NCO_FAULT=count     count the fault points of a normal run (no fault)
 *   NCO_FAULT=alloc:K   the K-th allocation made directly by ncopt's own code
 *                       (caller's return address inside the main executable,
 *                       where libncopt is linked statically) returns NULL with
 *                       errno = ENOMEM. Points: malloc, calloc, realloc,
 *                       aligned_alloc, posix_memalign, memalign, strdup,
 *                       strndup, open_memstream, getline/getdelim with no
 *                       buffer yet (NCO_FAULT_GETLINE=every: every call,
 *                       as when a longer line does not fit and the buffer
 *                       cannot grow). Allocations by libc internals, PLplot,
 *                       cairo, zlib, inih, OpenBLAS, libgomp are never failed.
 *   NCO_FAULT=io:K      the K-th I/O point on a file inside NCO_FAULT_DIR
 *                       fails, once: write, pwrite, writev, fwrite, fflush,
 *                       fclose, close (writable files only) and ftruncate
 *                       with ENOSPC; fsync, fdatasync with EIO; rename,
 *                       renameat, renameat2 (either path inside) with ENOSPC.
 *                       A failing fflush/fclose discards the stream's
 *                       buffered bytes first (what a full disk does to them).
 *   NCO_FAULT=full:K    the same from the K-th point on, every point (a disk
 *                       that stays full).
 *   NCO_FAULT=kill:K    raise(SIGKILL) just before the K-th I/O point.
 *   NCO_FAULT_DIR       the folder whose files are I/O points (default: none,
 *                       so no I/O point exists).
 *   NCO_FAULT_REPORT    a file the shim writes at exit: the counts, whether
 *                       the fault fired, and the blocks allocated by ncopt's
 *                       code still live (count, bytes, first callers).
 *   NCO_FAULT_LOG       a file that gets one line per fault point (K, kind,
 *                       function, path or caller offset in the executable;
 *                       `addr2line -e ncopt OFFSET` names the source line).
 *
 * stdio writes that go through fprintf/fputs reach the kernel through libc's
 * internal write, which no shim can interpose: they are caught at the
 * fflush/fclose that pushes them (streams up to one buffer, 4 KiB); fwrite
 * and the writes of PLplot/cairo (fwrite) are points themselves.
 *
 * Run with GOMP_SPINCOUNT or OMP_WAIT_POLICY set: otherwise ncopt re-executes
 * itself at start-up (src/core/threads.c) and the counting starts again. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

enum { M_NONE, M_COUNT, M_ALLOC, M_IO, M_FULL, M_KILL };
static int mode = M_NONE;
static unsigned long long target;
static atomic_ullong n_alloc, n_io;
static atomic_int fired;
static int ready; /* the constructor ran */
static uintptr_t exe_lo, exe_hi; /* the executable's code */
static uintptr_t exe_bias;        /* its load address: offsets for addr2line */
static char dir[4096];
static size_t dirlen;
static char report_path[4096];
static int log_fd = -1;
static int getline_every; /* NCO_FAULT_GETLINE=every: every getline call is a point */

/* ---- the real I/O functions ------------------------------------------------ */
static ssize_t (*r_write)(int, const void *, size_t);
static ssize_t (*r_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*r_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*r_writev)(int, const struct iovec *, int);
static size_t (*r_fwrite)(const void *, size_t, size_t, FILE *);
static int (*r_fflush)(FILE *);
static int (*r_fclose)(FILE *);
static int (*r_close)(int);
static int (*r_fsync)(int);
static int (*r_fdatasync)(int);
static int (*r_rename)(const char *, const char *);
static int (*r_renameat)(int, const char *, int, const char *);
static int (*r_renameat2)(int, const char *, int, const char *, unsigned);
static int (*r_ftruncate)(int, off_t);
static ssize_t (*r_getdelim)(char **, size_t *, int, FILE *);
static FILE *(*r_open_memstream)(char **, size_t *);

#define SYM(f) (r_##f = (__typeof__(r_##f))dlsym(RTLD_NEXT, #f))
static void resolve(void) {
  SYM(write), SYM(pwrite), SYM(pwrite64), SYM(writev), SYM(fwrite), SYM(fflush), SYM(fclose), SYM(close);
  SYM(fsync), SYM(fdatasync), SYM(rename), SYM(renameat), SYM(renameat2), SYM(ftruncate), SYM(getdelim);
  SYM(open_memstream);
}
#define REAL(f) (r_##f ? (void)0 : resolve(), r_##f)

/* ---- a lock for the table (OpenMP threads allocate too) -------------------- */
static atomic_flag lock = ATOMIC_FLAG_INIT;
static void lk(void) {
  while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire)) {
  }
}
static void ulk(void) { atomic_flag_clear_explicit(&lock, memory_order_release); }

/* ---- live blocks allocated by ncopt's code: linear probing, backward-shift
 * deletion (no tombstones) ---------------------------------------------------- */
#define TCAP (1u << 18)
struct slot {
  uintptr_t p;
  size_t n;
  uintptr_t caller;
};
static struct slot tab[TCAP];
static size_t t_live, t_bytes;
static int t_overflow;
static size_t hsh(uintptr_t p) { return (size_t)((p >> 4) * 0x9E3779B97F4A7C15ull >> 40) & (TCAP - 1); }

static void t_add(void *p, size_t n, uintptr_t caller) {
  if (!p) return;
  lk();
  if (t_live >= TCAP - TCAP / 8) {
    t_overflow = 1;
    ulk();
    return;
  }
  size_t i = hsh((uintptr_t)p);
  while (tab[i].p && tab[i].p != (uintptr_t)p) i = (i + 1) & (TCAP - 1);
  if (!tab[i].p) t_live++, t_bytes += n;
  else t_bytes += n - tab[i].n;
  tab[i].p = (uintptr_t)p, tab[i].n = n, tab[i].caller = caller;
  ulk();
}

/* removes p; returns 1 if it was tracked (its caller in *caller) */
static int t_del(void *p, uintptr_t *caller, size_t *size) {
  if (!p) return 0;
  lk();
  size_t i = hsh((uintptr_t)p);
  while (tab[i].p && tab[i].p != (uintptr_t)p) i = (i + 1) & (TCAP - 1);
  if (!tab[i].p) {
    ulk();
    return 0;
  }
  if (caller) *caller = tab[i].caller;
  if (size) *size = tab[i].n;
  t_live--, t_bytes -= tab[i].n;
  size_t j = i;
  for (;;) {
    j = (j + 1) & (TCAP - 1);
    if (!tab[j].p) break;
    size_t k = hsh(tab[j].p);
    /* move j into the hole at i unless its home k lies cyclically in (i, j] */
    int in = i <= j ? (k > i && k <= j) : (k > i || k <= j);
    if (!in) tab[i] = tab[j], i = j;
  }
  tab[i].p = 0, tab[i].n = 0, tab[i].caller = 0;
  ulk();
  return 1;
}

/* ---- logging without malloc -------------------------------------------------- */
static void logf_(const char *fmt, ...) {
  if (log_fd < 0) return;
  char b[4400];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(b, sizeof b, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof b) n = sizeof b - 1;
  int e = errno;
  (void)!REAL(write)(log_fd, b, (size_t)n);
  errno = e;
}

/* ---- allocation points ------------------------------------------------------- */
static int ours(const void *ra) { return ready && (uintptr_t)ra >= exe_lo && (uintptr_t)ra < exe_hi; }

/* counts an allocation point of ncopt's code; returns 1 if it must fail */
static int alloc_point(const void *ra, const char *fn, size_t n) {
  unsigned long long k = atomic_fetch_add(&n_alloc, 1) + 1;
  logf_("alloc %llu %s 0x%lx %zu\n", k, fn, (unsigned long)((uintptr_t)ra - exe_bias), n);
  if (mode == M_ALLOC && k == target) {
    atomic_store(&fired, 1);
    return 1;
  }
  return 0;
}

#define RA __builtin_return_address(0)

void *malloc(size_t n) {
  void *ra = RA;
  if (!ours(ra)) return __libc_malloc(n);
  if (alloc_point(ra, "malloc", n)) return errno = ENOMEM, NULL;
  void *p = __libc_malloc(n);
  t_add(p, n, (uintptr_t)ra);
  return p;
}

void *calloc(size_t a, size_t b) {
  void *ra = RA;
  if (!ours(ra)) return __libc_calloc(a, b);
  if (alloc_point(ra, "calloc", a * b)) return errno = ENOMEM, NULL;
  void *p = __libc_calloc(a, b);
  t_add(p, a * b, (uintptr_t)ra);
  return p;
}

void *realloc(void *old, size_t n) {
  void *ra = RA;
  int mine = ours(ra);
  if (mine && alloc_point(ra, "realloc", n)) return errno = ENOMEM, NULL;
  uintptr_t c = (uintptr_t)ra;
  size_t oldn = 0;
  /* one of ncopt's blocks? (put back if realloc fails) */
  int tracked = old && t_del(old, &c, &oldn);
  void *p = __libc_realloc(old, n);
  if (!p && n) { /* failed: the old block is still live */
    if (tracked) t_add(old, oldn, c);
    return NULL;
  }
  if (p && (tracked || mine)) t_add(p, n, tracked ? c : (uintptr_t)ra);
  return p;
}

void free(void *p) {
  if (!p) return;
  t_del(p, NULL, NULL);
  __libc_free(p);
}

void *aligned_alloc(size_t al, size_t n) {
  void *ra = RA;
  if (!ours(ra)) return __libc_memalign(al, n);
  if (alloc_point(ra, "aligned_alloc", n)) return errno = ENOMEM, NULL;
  void *p = __libc_memalign(al, n);
  t_add(p, n, (uintptr_t)ra);
  return p;
}

void *memalign(size_t al, size_t n) {
  void *ra = RA;
  if (!ours(ra)) return __libc_memalign(al, n);
  if (alloc_point(ra, "memalign", n)) return errno = ENOMEM, NULL;
  void *p = __libc_memalign(al, n);
  t_add(p, n, (uintptr_t)ra);
  return p;
}

int posix_memalign(void **out, size_t al, size_t n) {
  void *ra = RA;
  if (al < sizeof(void *) || (al & (al - 1))) return EINVAL;
  if (ours(ra) && alloc_point(ra, "posix_memalign", n)) return ENOMEM;
  void *p = __libc_memalign(al, n);
  if (!p) return ENOMEM;
  if (ours(ra)) t_add(p, n, (uintptr_t)ra);
  *out = p;
  return 0;
}

char *strdup(const char *s) {
  void *ra = RA;
  size_t n = strlen(s) + 1;
  if (ours(ra) && alloc_point(ra, "strdup", n)) return errno = ENOMEM, NULL;
  char *p = __libc_malloc(n);
  if (!p) return errno = ENOMEM, NULL;
  memcpy(p, s, n);
  if (ours(ra)) t_add(p, n, (uintptr_t)ra);
  return p;
}

char *strndup(const char *s, size_t m) {
  void *ra = RA;
  size_t n = strnlen(s, m);
  if (ours(ra) && alloc_point(ra, "strndup", n + 1)) return errno = ENOMEM, NULL;
  char *p = __libc_malloc(n + 1);
  if (!p) return errno = ENOMEM, NULL;
  memcpy(p, s, n);
  p[n] = 0;
  if (ours(ra)) t_add(p, n + 1, (uintptr_t)ra);
  return p;
}

/* getline/getdelim allocate the buffer when there is none yet: a point then */
ssize_t getdelim(char **line, size_t *cap, int delim, FILE *fp) {
  void *ra = RA;
  int mine = ours(ra);
  if (mine && line && (getline_every || !*line || !*cap) && alloc_point(ra, "getdelim", 0)) return errno = ENOMEM, -1;
  char *before = line ? *line : NULL;
  ssize_t r = REAL(getdelim)(line, cap, delim, fp);
  /* a buffer libc allocated for ncopt's code (libc's own malloc call is not
   * ours; a realloc of a tracked block stays tracked in realloc) */
  if (mine && line && *line && !before) t_add(*line, *cap, (uintptr_t)ra);
  return r;
}

ssize_t getline(char **line, size_t *cap, FILE *fp) {
  void *ra = RA;
  int mine = ours(ra);
  if (mine && line && (getline_every || !*line || !*cap) && alloc_point(ra, "getline", 0)) return errno = ENOMEM, -1;
  char *before = line ? *line : NULL;
  ssize_t r = REAL(getdelim)(line, cap, '\n', fp);
  if (mine && line && *line && !before) t_add(*line, *cap, (uintptr_t)ra);
  return r;
}

/* open_memstream: a point; its buffer (handed over at fclose) is tracked */
#define NMEM 64
static struct {
  FILE *fp;
  char **ptr;
  uintptr_t caller;
} mems[NMEM];

FILE *open_memstream(char **ptr, size_t *size) {
  void *ra = RA;
  int mine = ours(ra);
  if (mine && alloc_point(ra, "open_memstream", 0)) return errno = ENOMEM, NULL;
  FILE *fp = REAL(open_memstream)(ptr, size);
  if (fp && mine) {
    lk();
    for (int i = 0; i < NMEM; i++)
      if (!mems[i].fp) {
        mems[i].fp = fp, mems[i].ptr = ptr, mems[i].caller = (uintptr_t)ra;
        break;
      }
    ulk();
  }
  return fp;
}

/* ---- I/O points --------------------------------------------------------------- */
static int inside(const char *path) {
  return dirlen && !strncmp(path, dir, dirlen) && (path[dirlen] == '/' || path[dirlen] == 0);
}

static int fd_path(int fd, char *buf, size_t cap) {
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, buf, cap - 1);
  if (n < 0) return -1;
  buf[n] = 0;
  return 0;
}

static int fd_inside(int fd, char *buf, size_t cap) { return dirlen && fd >= 0 && !fd_path(fd, buf, cap) && inside(buf); }

static int fd_writable(int fd) {
  int fl = fcntl(fd, F_GETFL);
  return fl >= 0 && (fl & O_ACCMODE) != O_RDONLY;
}

/* a path made absolute (relative to dirfd or the working folder) */
static int abs_path(int dirfd, const char *p, char *buf, size_t cap) {
  if (!p) return -1;
  if (p[0] == '/') {
    snprintf(buf, cap, "%s", p);
    return 0;
  }
  char base[3072];
  if (dirfd == AT_FDCWD) {
    if (!getcwd(base, sizeof base)) return -1;
  } else if (fd_path(dirfd, base, sizeof base)) {
    return -1;
  }
  while (p[0] == '.' && p[1] == '/') p += 2;
  snprintf(buf, cap, "%s/%s", base, p);
  return 0;
}

/* counts an I/O point; returns 1 if it must fail (kill: does not return) */
static int io_point(const char *fn, const char *path) {
  if (mode == M_NONE || mode == M_ALLOC) return 0;
  unsigned long long k = atomic_fetch_add(&n_io, 1) + 1;
  logf_("io %llu %s %s\n", k, fn, path);
  if (mode == M_KILL && k == target) raise(SIGKILL);
  if ((mode == M_IO && k == target) || (mode == M_FULL && k >= target)) {
    atomic_store(&fired, 1);
    return 1;
  }
  return 0;
}

static int fd_point(const char *fn, int fd) {
  char p[4096];
  if (mode == M_NONE || mode == M_ALLOC || !fd_inside(fd, p, sizeof p)) return 0;
  return io_point(fn, p);
}

static int fp_point(const char *fn, FILE *fp) {
  if (mode == M_NONE || mode == M_ALLOC || !fp) return 0;
  int fd = fileno(fp);
  if (fd < 0 || !fd_writable(fd)) return 0;
  return fd_point(fn, fd);
}

#define FAIL(e, v) return errno = (e), (v)

ssize_t write(int fd, const void *b, size_t n) {
  if (fd > 2 && fd_point("write", fd)) FAIL(ENOSPC, -1);
  return REAL(write)(fd, b, n);
}

ssize_t pwrite(int fd, const void *b, size_t n, off_t o) {
  if (fd_point("pwrite", fd)) FAIL(ENOSPC, -1);
  return REAL(pwrite)(fd, b, n, o);
}

ssize_t pwrite64(int fd, const void *b, size_t n, off_t o) {
  if (fd_point("pwrite64", fd)) FAIL(ENOSPC, -1);
  return REAL(pwrite64)(fd, b, n, o);
}

ssize_t writev(int fd, const struct iovec *v, int n) {
  if (fd > 2 && fd_point("writev", fd)) FAIL(ENOSPC, -1);
  return REAL(writev)(fd, v, n);
}

size_t fwrite(const void *b, size_t sz, size_t n, FILE *fp) {
  if (sz && n && fp_point("fwrite", fp)) {
    fp->_flags |= _IO_ERR_SEEN; /* ferror(fp) is true afterwards, as after a real failure */
    FAIL(ENOSPC, 0);
  }
  return REAL(fwrite)(b, sz, n, fp);
}

int fflush(FILE *fp) {
  if (fp && fp_point("fflush", fp)) {
    __fpurge(fp); /* the buffered bytes are lost */
    fp->_flags |= _IO_ERR_SEEN;
    FAIL(ENOSPC, EOF);
  }
  return REAL(fflush)(fp);
}

int fclose(FILE *fp) {
  if (!fp) return REAL(fclose)(fp);
  int fail = fp_point("fclose", fp);
  int mem = -1;
  lk();
  for (int i = 0; i < NMEM; i++)
    if (mems[i].fp == fp) {
      mem = i;
      break;
    }
  char **ptr = mem >= 0 ? mems[mem].ptr : NULL;
  uintptr_t caller = mem >= 0 ? mems[mem].caller : 0;
  if (mem >= 0) mems[mem].fp = NULL;
  ulk();
  if (fail) __fpurge(fp);
  int r = REAL(fclose)(fp);
  if (ptr && *ptr) t_add(*ptr, 1, caller);
  if (fail) FAIL(ENOSPC, EOF);
  return r;
}

int close(int fd) {
  int fail = fd > 2 && fd_writable(fd) && fd_point("close", fd);
  int r = REAL(close)(fd);
  if (fail) FAIL(ENOSPC, -1); /* Linux closes the descriptor whatever close reports */
  return r;
}

int fsync(int fd) {
  if (fd_point("fsync", fd)) FAIL(EIO, -1);
  return REAL(fsync)(fd);
}

int fdatasync(int fd) {
  if (fd_point("fdatasync", fd)) FAIL(EIO, -1);
  return REAL(fdatasync)(fd);
}

int ftruncate(int fd, off_t n) {
  if (fd_point("ftruncate", fd)) FAIL(ENOSPC, -1);
  return REAL(ftruncate)(fd, n);
}

static int rename_point(const char *fn, int fa, const char *a, int fb, const char *b) {
  if (mode == M_NONE || mode == M_ALLOC || !dirlen) return 0;
  char pa[4096], pb[4096];
  int ia = !abs_path(fa, a, pa, sizeof pa) && inside(pa);
  int ib = !abs_path(fb, b, pb, sizeof pb) && inside(pb);
  if (!ia && !ib) return 0;
  return io_point(fn, ib ? pb : pa);
}

int rename(const char *a, const char *b) {
  if (rename_point("rename", AT_FDCWD, a, AT_FDCWD, b)) FAIL(ENOSPC, -1);
  return REAL(rename)(a, b);
}

int renameat(int fa, const char *a, int fb, const char *b) {
  if (rename_point("renameat", fa, a, fb, b)) FAIL(ENOSPC, -1);
  return REAL(renameat)(fa, a, fb, b);
}

int renameat2(int fa, const char *a, int fb, const char *b, unsigned fl) {
  if (rename_point("renameat2", fa, a, fb, b)) FAIL(ENOSPC, -1);
  return REAL(renameat2)(fa, a, fb, b, fl);
}

/* ---- set-up and the report ------------------------------------------------------ */
static int find_exe(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size, (void)data;
  exe_bias = info->dlpi_addr;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
      uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
      if (!exe_lo || lo < exe_lo) exe_lo = lo;
      if (hi > exe_hi) exe_hi = hi;
    }
  }
  return 1; /* the first object is the executable */
}

__attribute__((constructor)) static void nco_fault_init(void) {
  const char *m = getenv("NCO_FAULT");
  if (!m || !*m) return;
  if (!strcmp(m, "count")) mode = M_COUNT;
  else if (!strncmp(m, "alloc:", 6)) mode = M_ALLOC, target = strtoull(m + 6, NULL, 10);
  else if (!strncmp(m, "io:", 3)) mode = M_IO, target = strtoull(m + 3, NULL, 10);
  else if (!strncmp(m, "full:", 5)) mode = M_FULL, target = strtoull(m + 5, NULL, 10);
  else if (!strncmp(m, "kill:", 5)) mode = M_KILL, target = strtoull(m + 5, NULL, 10);
  else {
    static const char msg[] = "nco_fault: NCO_FAULT must be count, alloc:K, io:K, full:K or kill:K\n";
    (void)!REAL(write)(2, msg, sizeof msg - 1);
    _exit(99);
  }
  const char *d = getenv("NCO_FAULT_DIR");
  if (d && *d) {
    if (!realpath(d, dir)) snprintf(dir, sizeof dir, "%s", d);
    dirlen = strlen(dir);
    while (dirlen > 1 && dir[dirlen - 1] == '/') dir[--dirlen] = 0;
  }
  const char *r = getenv("NCO_FAULT_REPORT");
  if (r) snprintf(report_path, sizeof report_path, "%s", r);
  const char *g = getenv("NCO_FAULT_GETLINE");
  getline_every = g && !strcmp(g, "every");
  const char *l = getenv("NCO_FAULT_LOG");
  if (l && *l) log_fd = open(l, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  dl_iterate_phdr(find_exe, NULL);
  ready = 1;
}

__attribute__((destructor)) static void nco_fault_fini(void) {
  if (mode == M_NONE || !report_path[0]) return;
  ready = 0; /* nothing after this is counted */
  int fd = open(report_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  char b[8192];
  int n = snprintf(b, sizeof b, "alloc_points %llu\nio_points %llu\nfired %d\nlive_blocks %zu\nlive_bytes %zu\noverflow %d\n",
                   (unsigned long long)n_alloc, (unsigned long long)n_io, fired, t_live, t_bytes, t_overflow);
  int shown = 0;
  for (size_t i = 0; i < TCAP && shown < 20 && n < (int)sizeof b - 80; i++)
    if (tab[i].p) {
      n += snprintf(b + n, sizeof b - (size_t)n, "live 0x%lx %zu\n", (unsigned long)(tab[i].caller - exe_bias), tab[i].n);
      shown++;
    }
  (void)!REAL(write)(fd, b, (size_t)n);
  REAL(close)(fd);
}
