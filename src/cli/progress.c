/* What a run shows while it goes, and how it stops: the progress line on
 * stderr, and SIGINT/SIGTERM asking the run to stop at its next step. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

volatile sig_atomic_t cli_got_signal = 0;
/* The first SIGINT/SIGTERM asks the run to stop at its next step
 * (checkpoint, outputs, exit 130/143); a second one, or STOP_GRACE seconds
 * without the run stopping (a step that never returns), ends the process
 * with the signal's default action. Outputs are written atomically, so
 * either way no file is left half-written. */
#define STOP_GRACE 30
static void on_signal(int sig) {
  cli_got_signal = sig;
  alarm(STOP_GRACE);
}
static void on_alarm(int sig) {
  (void)sig;
  signal(cli_got_signal ? cli_got_signal : SIGTERM, SIG_DFL);
  raise(cli_got_signal ? cli_got_signal : SIGTERM);
}

static void install_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESETHAND; /* a second signal ends the process at once */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
}

static double wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* On a terminal the progress line is redrawn in place (10 times a second
 * at most); otherwise (a log file, a pipe) a line every 5 seconds. */
static int on_progress(void *ctx, const nco_progress *p) {
  cli_progress *c = ctx;
  if (cli_got_signal && !p->done) return 1;
  if (c->quiet) return 0;
  if (p->done) {
    if (c->tty && c->drawn) fputs("\r\033[K", stderr);
    c->drawn = 0;
    return 0;
  }
  double now = wall();
  if (now - c->last < (c->tty ? 0.1 : 5.0)) return 0;
  c->last = now;
  double sps = p->seconds > 0 ? (double)p->iter / p->seconds : 0;
  double eta = sps > 0 ? (double)(p->total - p->iter) / sps : 0;
  char line[768], etas[32];
  if (sps > 0 && eta < 1e7) snprintf(etas, sizeof etas, "%.0fs", eta);
  else snprintf(etas, sizeof etas, "--");
  char point[200] = "", loss[48] = "";
  if (p->npoints) snprintf(point, sizeof point, "[%zu/%zu %.160s] ", p->point, p->npoints, p->label ? p->label : "");
  if (isfinite(p->loss)) snprintf(loss, sizeof loss, "  loss %.6g", p->loss);
  if (p->replay)
    snprintf(line, sizeof line, "%sregularity replay (γ_k of every step): step %llu/%llu  %.0f steps/s  ETA %s", point,
             (unsigned long long)p->iter, (unsigned long long)p->total, sps, etas);
  else
    snprintf(line, sizeof line, "%sstep %llu/%llu  epoch %llu%s  %.3g steps/s  ETA %s", point, (unsigned long long)p->iter,
             (unsigned long long)p->total, (unsigned long long)p->epoch, loss, sps, etas);
  if (c->tty)
    fprintf(stderr, "\r\033[K%s", line);
  else
    fprintf(stderr, "%s\n", line);
  fflush(stderr);
  c->drawn = 1;
  return 0;
}

nco_run_hooks cli_run_hooks(cli_progress *c, int quiet) {
  c->quiet = quiet, c->tty = isatty(2), c->drawn = 0, c->last = c->tty ? 0 : wall();
  install_signals();
  nco_run_hooks hooks = {on_progress, c};
  return hooks;
}
