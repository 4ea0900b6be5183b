/* ncopt/threads.h — how ncopt's threads wait, on a shared machine.
 *
 * ncopt's parallelism is one OpenMP team (GCC's libgomp): network batches
 * are split into T ranges (T = omp_get_max_threads() when the problem is
 * created, i.e. OMP_NUM_THREADS, default the number of cores), and the
 * optimisers' elementwise steps run in fixed 2^15-element chunks. libgomp
 * makes a thread that waits at a barrier spin for GOMP_SPINCOUNT
 * iterations (default 300 000, 3-15 ms) before it sleeps: on a quiet
 * machine that is the fastest hand-off, but when another process occupies
 * a core, the spinning thread burns the time its descheduled team mate
 * needs (measured: an MLP epoch 5-15x slower with one busy core of two).
 *
 * libgomp reads OMP_WAIT_POLICY and GOMP_SPINCOUNT once, when it is
 * loaded, before main() runs; there is no call to change them afterwards.
 * nco_threads_setup() therefore sets GOMP_SPINCOUNT=NCO_GOMP_SPINCOUNT and
 * re-executes the program (execv of /proc/self/exe with the same argv)
 * when neither variable is set; a user's OMP_WAIT_POLICY or GOMP_SPINCOUNT
 * is respected as given. The `ncopt` command calls it first thing in
 * main(); a C program that calls nco_run_train() on a machine shared with
 * other work should do the same (or set GOMP_SPINCOUNT / OMP_WAIT_POLICY
 * in its environment, or OMP_NUM_THREADS=1).
 *
 * None of this changes results: the batch split and the chunks depend on
 * the thread count T, never on which thread runs a piece or how it waits.
 */
#ifndef NCOPT_THREADS_H
#define NCOPT_THREADS_H

#ifdef __cplusplus
extern "C" {
#endif

/* libgomp's spin count before a waiting thread sleeps (≈ 0.1-0.5 ms):
 * measured on 2 cores (docs/ARCHITECTURE.md, "Threads"). */
#define NCO_GOMP_SPINCOUNT "10000"

/* 1 if the environment leaves libgomp's waiting at its default (neither
 * OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set), else 0. */
int nco_threads_default_wait(void);

/* If nco_threads_default_wait(): sets GOMP_SPINCOUNT=NCO_GOMP_SPINCOUNT and
 * re-executes the running program with argv (argv[0] first, NULL-terminated;
 * does not return when that succeeds). Returns NCO_OK when nothing had to be
 * done, NCO_ERR_INVALID for a NULL argv, NCO_ERR_UNSUPPORTED when the
 * program could not be re-executed (then it keeps running with libgomp's
 * default waiting; GOMP_SPINCOUNT stays set for child processes). Call it
 * before any other thread is started. */
int nco_threads_setup(char **argv);

#ifdef __cplusplus
}
#endif

#endif
