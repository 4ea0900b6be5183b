/* How ncopt's OpenMP threads wait (include/ncopt/threads.h): libgomp reads
 * GOMP_SPINCOUNT when it is loaded, so the only way to change it for the
 * running program is to set it and start the program again. */
#include "ncopt/threads.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ncopt/status.h"

int nco_threads_default_wait(void) { return !getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT"); }

int nco_threads_setup(char **argv) {
  if (!argv || !argv[0]) return nco_error(NCO_ERR_INVALID, "threads: setup: NULL argv");
  if (!nco_threads_default_wait()) return NCO_OK;
  if (setenv("GOMP_SPINCOUNT", NCO_GOMP_SPINCOUNT, 1))
    return nco_error(NCO_ERR_UNSUPPORTED, "threads: setup: cannot set GOMP_SPINCOUNT: %s", strerror(errno));
  /* the same binary, whatever argv[0] says (a relative name, a symlink) */
  execv("/proc/self/exe", argv);
  return nco_error(NCO_ERR_UNSUPPORTED,
                   "threads: setup: cannot re-execute /proc/self/exe (%s): libgomp keeps spin-waiting "
                   "for 300000 iterations",
                   strerror(errno));
}
