/* Writing the resolved spec (spec.ini of a run). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/data.h"
#include "ncopt/nn.h"
#include "ncopt/status.h"
#include "run/config_int.h"

/* ---- writing the resolved spec --------------------------------------- */

/* The shortest text that reads back to the same double: the fewest
 * significant digits, in %g or plain decimal form, whichever is shorter
 * (30, not 3e+01; 1e-06, not 0.000001). */
static const char *shortest_double(double d, char *t, size_t len) {
  int prec = 1;
  for (; prec < 17; prec++) {
    snprintf(t, len, "%.*g", prec, d);
    if (strtod(t, NULL) == d) break;
  }
  snprintf(t, len, "%.*g", prec, d);
  if (d != 0 && fabs(d) < 1e17) {
    char f[48];
    int mag = (int)floor(log10(fabs(d))), dec = prec - 1 - mag;
    snprintf(f, sizeof f, "%.*f", dec > 0 ? dec : 0, d);
    if (strtod(f, NULL) == d && strlen(f) <= strlen(t)) snprintf(t, len, "%s", f);
  }
  return t;
}

NCO_HIDDEN void cfg_write_value(const nco_config *cfg, const key *k, FILE *fp) {
  const void *f = cfg_field((nco_config *)cfg, k);
  char buf[64];
  switch (k->type) {
    case T_DOUBLE: {
      double d = *(const double *)f;
      if (isinf(d)) {
        fprintf(fp, "%s", d > 0 ? "inf" : "-inf");
      } else {
        char t[48];
        fputs(shortest_double(d, t, sizeof t), fp);
      }
      break;
    }
    case T_SIZE:
      if (k->enums && !*(const size_t *)f) fputs(k->enums, fp); /* auto */
      else fprintf(fp, "%zu", *(const size_t *)f);
      break;
    case T_PAIR: {
      key c = *k;
      c.type = T_DOUBLE;
      cfg_write_value(cfg, &c, fp);
      fputs(", ", fp);
      c.off += sizeof(double);
      cfg_write_value(cfg, &c, fp);
      break;
    }
    case T_U64: fprintf(fp, "%llu", (unsigned long long)*(const uint64_t *)f); break;
    case T_EVERY: {
      uint64_t u = *(const uint64_t *)f;
      if (u == NCO_EVERY_AUTO) fputs("auto", fp);
      else if (u == NCO_EVERY_EPOCH) fputs("epoch", fp);
      else fprintf(fp, "%llu", (unsigned long long)u);
      break;
    }
    case T_BOOL: fprintf(fp, "%s", *(const int *)f ? "true" : "false"); break;
    case T_STR:
    case T_PATH:
      if (k->off == offsetof(nco_config, widths_text) && cfg->nwidths) {
        /* the parsed widths, canonically ("256, 256"), not the text as typed */
        for (size_t i = 0; i < cfg->nwidths; i++) fprintf(fp, "%s%zu", i ? ", " : "", cfg->widths[i]);
      } else {
        fprintf(fp, "%s", (const char *)f);
      }
      break;
    case T_ENUM: fprintf(fp, "%s", cfg_enum_name(k->enums, *(const int *)f, buf, sizeof buf)); break;
    case T_ACT: fprintf(fp, "%s", nco_act_name(cfg->act.kind)); break;
    case T_OPTIM: fprintf(fp, "%s", nco_optim_type_name(cfg->optim)); break;
    case T_SCHED: fprintf(fp, "%s", nco_schedule_name(cfg->sched.kind)); break;
    default: break;
  }
}

/* "name = value": a line of spec.ini must fit the reader's 198 bytes
 * (spec.h), so a long value (an absolute path) goes on indented
 * continuation lines, which the reader joins without a separator; a piece
 * never starts or ends with white space (which the reader strips). */
NCO_HIDDEN int cfg_value_text(const nco_config *cfg, const key *k, char *buf, size_t len);

static void write_wrapped(FILE *fp, const char *name, const char *text) {
  size_t n = strlen(text), cap = 150 > strlen(name) + 3 ? 150 - strlen(name) - 3 : 1;
  fprintf(fp, "%s = ", name);
  do {
    size_t take = n <= cap ? n : cap;
    while (take < n && take > 1 && (strchr(" \t", text[take]) || strchr(" \t", text[take - 1]))) take--;
    /* no place to split outside white space: one line, which the reader
     * then refuses clearly (never a silently different value) */
    if (take == 1 && n > cap) take = n;
    fprintf(fp, "%.*s\n", (int)take, text);
    text += take, n -= take, cap = 150;
    if (n) fputs("    ", fp);
  } while (n);
}

int nco_config_write(const nco_config *cfg, FILE *fp) {
  const char *section = "";
  for (size_t i = 0; i < NKEYS; i++) {
    const key *k = &keys[i];
    if (k->type == T_ALIAS || k->type == T_NOOP || !cfg_applies(cfg, k)) continue;
    if (!strcmp(k->section, "data") && !strcmp(k->name, "v") && !cfg->data_v[0]) continue;
    if (!strcmp(k->section, "problem") && !strcmp(k->name, "slope") &&
        cfg->act.kind != NCO_ACT_LEAKY_RELU && cfg->act.kind != NCO_ACT_ELU)
      continue;
    if (!strcmp(k->section, "optimizer") && !strncmp(k->name, "proj_", 5) &&
        (cfg->hp.projection == NCO_PROJ_NONE ||
         (cfg->hp.projection == NCO_PROJ_BOX) != (!strcmp(k->name, "proj_lo") || !strcmp(k->name, "proj_hi"))))
      continue;
    if (!strcmp(k->section, "regularizer") && !strcmp(k->name, "lambda") && cfg->reg == NCO_REG_NONE) continue;
    if (!strcmp(k->section, "problem") && !strcmp(k->name, "init_sigma") && cfg->nn_init != 3) continue;
    if (!strcmp(k->section, "data") && k->type == T_PATH && !strncmp(k->name, "test_", 5) && !*(const char *)cfg_field((nco_config *)cfg, k))
      continue;
    if (!strcmp(k->section, "run") && ((!strcmp(k->name, "iterations") && !cfg->iterations) ||
                                      (!strcmp(k->name, "epochs") && !cfg->epochs)))
      continue;
    if (strcmp(section, k->section)) {
      fprintf(fp, "%s[%s]\n", *section ? "\n" : "", k->section);
      section = k->section;
    }
    char text[2 * NCO_PATH_MAX];
    if (cfg_value_text(cfg, k, text, sizeof text)) return nco_error(NCO_ERR_NOMEM, "cannot write the resolved spec: out of memory");
    write_wrapped(fp, k->name, text);
  }
  int any = 0;
  for (int p = 0; p < NCO_PROBE_COUNT; p++) {
    if (!cfg->probe_every[p]) continue;
    if (!any++) fprintf(fp, "\n[probes]\n");
    if (cfg->probe_every[p] == NCO_PROBE_AT_LOG)
      fprintf(fp, "%s = true\n", nco_probe_name(p));
    else
      fprintf(fp, "%s = %lld\n", nco_probe_name(p), (long long)cfg->probe_every[p]);
  }
  if (cfg->nnet) fprintf(fp, "\n[network]\n");
  for (size_t i = 0; i < cfg->nnet; i++) write_wrapped(fp, cfg->net[i].key, cfg->net[i].value);
  int st = cfg_groups_write(cfg, fp);
  if (st) return st;
  return ferror(fp) ? nco_error(NCO_ERR_IO, "cannot write the resolved spec") : NCO_OK;
}
