/* ncopt's arguments and the inputs they name: options, the spec with its
 * --set overrides, the config and the point of eval/probe/certify; the
 * one-line messages of an error and their exit codes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* prefix + msg + newline on stderr, control bytes of msg (other than the
 * newlines between several spec errors) shown as \xNN: a spec or a file
 * name must not move the terminal's cursor or change its colours */
void cli_put_msg(const char *prefix, const char *msg) {
  fputs(prefix, stderr);
  for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
    if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f) fprintf(stderr, "\\x%02x", *p);
    else fputc(*p, stderr);
  }
  fputc('\n', stderr);
}

int cli_fail(int st, const char *fallback) {
  const char *m = nco_last_error();
  cli_put_msg("ncopt: ", *m ? m : fallback);
  if (st == NCO_ERR_NONFINITE) return 3;
  return 1;
}

/* spec errors (config/parse) exit with 2; their message is already
 * "FILE:LINE: section.key: what is wrong" */
int cli_spec_fail(void) {
  cli_put_msg("", nco_last_error());
  return 2;
}

/* A usage error: one line, exit 2. */
int cli_usage_fail(const char *cmd, const char *what) {
  fprintf(stderr, "ncopt: %s: %s (see ncopt %s --help)\n", cmd, what, cmd);
  return 2;
}

int cli_is_help(const char *s) { return !strcmp(s, "--help") || !strcmp(s, "-h"); }

/* opts: the options the command takes, e.g. "set out quiet" */
static int has_opt(const char *opts, const char *o) {
  size_t L = strlen(o);
  if (!L) return 0; /* "--" alone is no option (the search below would walk past the list's end) */
  for (const char *p = strstr(opts, o); p; p = strstr(p + 1, o))
    if ((p == opts || p[-1] == ' ') && (p[L] == ' ' || !p[L])) return 1;
  return 0;
}

/* Where the value of the option s (--out, --params, ...; not --set) goes. */
static const char **value_slot(cli_args *a, const char *s) {
  const struct {
    const char *opt;
    const char **slot;
  } slots[] = {{"--out", &a->out}, {"--params", &a->params}, {"--run", &a->run},
               {"--json", &a->json}, {"--k", &a->k}, {"--grad-tol", &a->grad_tol}};
  for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++)
    if (!strcmp(s, slots[i].opt)) return slots[i].slot;
  return &a->aux;
}

static int parse_args(const char *cmd, const char *opts, int argc, char **argv, cli_args *a) {
  memset(a, 0, sizeof *a);
  for (int i = 0; i < argc; i++) {
    const char *s = argv[i];
    if (cli_is_help(s)) {
      a->help = 1;
    } else if ((!strcmp(s, "--quiet") || !strcmp(s, "-q")) && has_opt(opts, "quiet")) {
      a->quiet = 1;
    } else if ((!strcmp(s, "--force") || !strcmp(s, "--overwrite")) && has_opt(opts, "force")) {
      a->force = 1;
    } else if (!strcmp(s, "--density") && has_opt(opts, "density")) {
      a->density = 1;
    } else if (!strncmp(s, "--", 2) && has_opt(opts, s + 2) && strcmp(s + 2, "quiet") && strcmp(s + 2, "density") &&
               strcmp(s + 2, "force")) {
      if (i + 1 >= argc) {
        char m[128];
        snprintf(m, sizeof m, "%s needs a value", s);
        return cli_usage_fail(cmd, m);
      }
      const char *v = argv[++i];
      if (!strcmp(s, "--set")) {
        if (a->nsets == 64) return cli_usage_fail(cmd, "more than 64 --set options");
        a->sets[a->nsets++] = v;
      } else {
        *value_slot(a, s) = v;
      }
    } else if (s[0] == '-' && s[1]) {
      char m[300];
      snprintf(m, sizeof m, "unknown option '%.200s'", s);
      return cli_usage_fail(cmd, m);
    } else if (!a->spec) {
      a->spec = s;
    } else {
      char m[300];
      snprintf(m, sizeof m, "unexpected argument '%.200s'", s);
      return cli_usage_fail(cmd, m);
    }
  }
  return 0;
}

int cli_start(const char *cmd, const char *opts, const char *missing, int argc, char **argv, cli_args *a, int *rc) {
  if ((*rc = parse_args(cmd, opts, argc, argv, a))) return 1;
  if (a->help) return *rc = cli_help(cmd), 1;
  if (!a->spec) return *rc = cli_usage_fail(cmd, missing), 1;
  return 0;
}

int cli_load_spec(const char *path, const cli_args *a, nco_spec **spec) {
  if (nco_spec_load(path, spec)) return cli_spec_fail();
  for (int i = 0; i < a->nsets; i++)
    if (nco_spec_set(*spec, a->sets[i])) {
      nco_spec_free(*spec);
      *spec = NULL;
      return cli_spec_fail();
    }
  return 0;
}

int cli_has_sweep(const nco_spec *s) {
  for (size_t i = 0; i < s->n; i++)
    if (!strcmp(s->e[i].section, "sweep")) return 1;
  return 0;
}

/* SPEC with its --set overrides (a [sweep] is ignored) → cfg. Returns an
 * exit status, 0 when fine. */
int cli_load_config(const cli_args *a, nco_config *cfg) {
  nco_spec *spec;
  int rc = cli_load_spec(a->spec, a, &spec);
  if (rc) return rc;
  nco_spec_drop_section(spec, "sweep");
  /* eval, probe and certify look at a point: no run length needed; a
   * --set of a type drops the keys of the old type */
  unsigned flags = NCO_CONFIG_NO_LENGTH;
  for (int i = 0; i < a->nsets; i++)
    if (strstr(a->sets[i], ".type=")) flags |= NCO_CONFIG_LENIENT_TYPES;
  if (nco_config_from_spec_flags(spec, cfg, flags)) {
    nco_spec_free(spec);
    return cli_spec_fail();
  }
  nco_spec_free(spec);
  if (cfg->ignored[0]) fprintf(stderr, "ncopt: note: ignored (does not apply to the new type): %s\n", cfg->ignored);
  return 0;
}

/* The problem of cfg and the point of --params (and --aux): *theta[dim].
 * Returns an exit status, 0 when fine. */
int cli_load_point(const cli_args *a, const nco_config *cfg, nco_problem **pbo, float **thetao) {
  nco_problem *pb = NULL;
  nco_array x = {0}, p = {0};
  float *theta = NULL;
  int st, rc = 1;
  int se = 0;
  *pbo = NULL, *thetao = NULL;
  if ((st = nco_config_build_problems(cfg, 0, &pb, NULL, &se))) return se ? cli_spec_fail() : cli_fail(st, "cannot build the problem");
  size_t dim = pb->dim, dx = nco_problem_root(pb)->dim;
  if ((st = nco_npy_read(a->params, &x)) || (st = nco_array_to_f32(&x))) {
    rc = cli_fail(st, "cannot read --params");
    goto done;
  }
  if (x.size != dim && x.size != dx) {
    fprintf(stderr, "ncopt: %s: holds %zu values, the problem has %zu parameters%s\n", a->params, x.size, dx,
            dim != dx ? " (or all of x and p)" : "");
    goto done;
  }
  if (!(theta = calloc(dim, sizeof *theta))) {
    rc = cli_fail(NCO_ERR_NOMEM, "out of memory");
    goto done;
  }
  memcpy(theta, x.data, x.size * sizeof(float));
  /* the lifted loss ½‖g(x) + λp‖² depends on p: a point without it would
   * be another point than the run's (p = 0 only when asked for) */
  if (dim != dx && x.size == dx && !a->aux) {
    fprintf(stderr, "ncopt: %s: holds x only; the invex lifting's loss also depends on p: add --aux RUN/aux.npy "
                    "(the run's p), or --aux zeros for p = 0\n", a->params);
    goto done;
  }
  if (a->aux && !strcmp(a->aux, "zeros")) {
    if (x.size != dx || dim == dx) {
      fprintf(stderr, "ncopt: --aux zeros: %s\n", dim == dx ? "the problem has no auxiliary parameters (no invex lifting)"
                                                             : "--params already holds x and p");
      goto done;
    }
  } else if (a->aux) {
    if ((st = nco_npy_read(a->aux, &p)) || (st = nco_array_to_f32(&p))) {
      rc = cli_fail(st, "cannot read --aux");
      goto done;
    }
    if (x.size != dx || p.size != dim - dx) {
      fprintf(stderr, "ncopt: %s: holds %zu values, the lifting has %zu auxiliary parameters\n", a->aux, p.size, dim - dx);
      goto done;
    }
    memcpy(theta + dx, p.data, p.size * sizeof(float));
  }
  rc = 0;
  *pbo = pb, *thetao = theta;
  pb = NULL, theta = NULL;
done:
  free(theta);
  nco_array_free(&x), nco_array_free(&p);
  nco_problem_free(pb);
  return rc;
}

/* A positive integer or number option; -1 / NAN when malformed. */
long cli_opt_int(const char *s) {
  char *e;
  long v = s ? strtol(s, &e, 10) : -1;
  return s && *s && !*e ? v : -1;
}
double cli_opt_num(const char *s) {
  char *e;
  double v = s ? strtod(s, &e) : NAN;
  return s && *s && !*e ? v : NAN;
}

int cli_write_atomic(const char *path, int (*write)(FILE *mem, const void *ctx), const void *ctx) {
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  if (!mem) return nco_error(NCO_ERR_NOMEM, "out of memory");
  int st = write(mem, ctx);
  fclose(mem);
  if (!st) st = text ? nco_write_file_atomic(path, text, len) : nco_error(NCO_ERR_NOMEM, "out of memory");
  free(text);
  return st;
}
