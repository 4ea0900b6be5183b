/* [group.NAME] sections: parameter groups, each a slice of θ with its own
 * optimiser (PyTorch's optimizer param_groups, with the method a key too).
 *
 *   [group.head]
 *   params = fc3            ; the problem's slice names and/or index ranges A:B
 *   lr = 0.01               ; any [optimizer] hyper-parameter; the rest from [optimizer]
 *   type = adam             ; optional: another method (then its defaults, not [optimizer]'s)
 *   steps = 1               ; optimiser steps per round
 *
 * The keys are the optimizer's, parsed and range-checked by the same rows
 * of the key table (generated from src/optim/params.c): the group's values
 * are assigned through the [optimizer] rows on a copy of the settings, and
 * messages name group.NAME.KEY. The slices are resolved by the run, which
 * knows the problem (src/run/groups.c). */
#include <stdlib.h>
#include <string.h>

#include "ncopt/status.h"
#include "run/config_int.h"

#define GROUP_PREFIX "group."

static int is_ident(const char *s) {
  if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_')) return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_')) return 0;
  return 1;
}

/* The last error with its "optimizer." key renamed "group.NAME." */
static int rename_error(int st, const char *name) {
  char m[1200];
  const char *e = nco_last_error(), *at = strstr(e, ": optimizer.");
  if (!at) return st;
  snprintf(m, sizeof m, "%.*s: " GROUP_PREFIX "%s.%s", (int)(at - e), e, name, at + strlen(": optimizer."));
  return nco_error(st, "%s", m);
}

/* The [optimizer] row of key `name` that a group may set, or NULL. */
static const key *hp_key(const char *name) {
  for (size_t i = 0; i < NKEYS; i++)
    if (keys[i].base == IN_HP && keys[i].type != T_ALIAS && !strcmp(keys[i].section, "optimizer") &&
        !strcmp(keys[i].name, name))
      return &keys[i];
  return NULL;
}

/* One group's keys (type first: it chooses the defaults). */
static void parse_group(nco_spec *spec, nco_config *cfg, const char *sec, nco_group_config *g, struct errs *el) {
  nco_spec_entry *e = nco_spec_find(spec, sec, "type");
  g->optim = cfg->optim, g->hp = cfg->hp, g->steps = 1;
  if (e) {
    e->used = 1;
    const nco_optim_type *t = nco_optim_find(e->value);
    char names[600];
    if (!t) {
      cfg_note(el, cfg_check_choice(spec, e, sec, "type", e->value, cfg_optim_names(names, sizeof names)));
      return;
    }
    if (t != cfg->optim) g->optim = t, g->hp = nco_optim_defaults(t); /* another method: its own defaults */
  }
  for (size_t i = 0; i < spec->n; i++) {
    e = &spec->e[i];
    if (strcmp(e->section, sec) || e->used) continue;
    e->used = 1;
    if (!strcmp(e->key, "params")) {
      if (!e->value[0] || strlen(e->value) >= sizeof g->params)
        cfg_note(el, cfg_kerr(spec, e, sec, "params", NCO_ERR_INVALID, "expected the names or ranges A:B of %s",
                               "the parameters, comma-separated (at most 255 characters)", NULL));
      else
        snprintf(g->params, sizeof g->params, "%s", e->value);
      continue;
    }
    if (!strcmp(e->key, "steps")) {
      uint64_t u;
      if (cfg_parse_u64(e->value, &u) || u < 1 || u > 1000000)
        cfg_note(el, cfg_kerr(spec, e, sec, "steps", NCO_ERR_RANGE, "'%s' is not a step count in [1, 1e6]", e->value, NULL));
      else
        g->steps = u;
      continue;
    }
    const key *k = hp_key(e->key);
    const nco_optim_param *p = k ? nco_optim_param_find(e->key) : NULL;
    if (!k || !p) {
      cfg_note(el, cfg_kerr(spec, e, sec, e->key, NCO_ERR_INVALID, "unknown key (a group takes %s%s", "params, steps, type",
                             " and the optimizer's hyper-parameters: `ncopt list keys`)"));
      continue;
    }
    if (!nco_optim_param_applies(p, g->optim)) {
      cfg_note(el, cfg_kerr(spec, e, sec, e->key, NCO_ERR_INVALID, "does not apply to %s (used by: %s)",
                             nco_optim_type_name(g->optim), p->methods ? p->methods : "all"));
      continue;
    }
    /* the [optimizer] row on the group's settings: one parser, one range */
    nco_optim_params keep = cfg->hp;
    const nco_optim_type *kt = cfg->optim;
    cfg->hp = g->hp, cfg->optim = g->optim;
    int st = cfg_set_value(spec, cfg, k, e, e->value);
    g->hp = cfg->hp;
    cfg->hp = keep, cfg->optim = kt;
    if (st) cfg_note(el, rename_error(st, g->name));
  }
  if (!g->params[0]) {
    e = NULL;
    cfg_note(el, cfg_kerr(spec, NULL, sec, "params", NCO_ERR_INVALID, "missing: name the group's parameters (%s)",
                          "slice names such as fc1, x, p, or ranges A:B", NULL));
  }
}

void cfg_groups_parse(nco_spec *spec, nco_config *cfg, struct errs *el) {
  cfg->ngroups = 0;
  for (size_t i = 0; i < spec->n; i++) {
    const char *sec = spec->e[i].section;
    if (strncmp(sec, GROUP_PREFIX, strlen(GROUP_PREFIX))) continue;
    int seen = 0;
    for (size_t j = 0; j < i && !seen; j++) seen = !strcmp(spec->e[j].section, sec);
    if (seen) continue;
    const char *name = sec + strlen(GROUP_PREFIX);
    if (!is_ident(name) || strlen(name) >= sizeof cfg->group[0].name) {
      cfg_note(el, cfg_kerr(spec, &spec->e[i], sec, spec->e[i].key, NCO_ERR_INVALID,
                            "a group's name is [A-Za-z_][A-Za-z0-9_]*, at most 31 characters ('%s')", name, NULL));
      spec->e[i].used = 1;
      continue;
    }
    if (cfg->ngroups == NCO_MAX_GROUPS) {
      cfg_note(el, cfg_kerr(spec, &spec->e[i], sec, spec->e[i].key, NCO_ERR_RANGE, "at most %s parameter groups", "8", NULL));
      for (size_t j = i; j < spec->n; j++)
        if (!strncmp(spec->e[j].section, GROUP_PREFIX, strlen(GROUP_PREFIX))) spec->e[j].used = 1;
      return;
    }
    nco_group_config *g = &cfg->group[cfg->ngroups++];
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name);
    g->line = spec->e[i].line;
    parse_group(spec, cfg, sec, g, el);
  }
}

/* The resolved groups, every hyper-parameter the group's method reads (as
 * [optimizer] is written: the spec.ini of a run is complete). */
int cfg_groups_write(const nco_config *cfg, FILE *fp) {
  if (!cfg->ngroups) return NCO_OK;
  nco_config *tmp = malloc(sizeof *tmp);
  if (!tmp) return nco_error(NCO_ERR_NOMEM, "cannot write the resolved spec: out of memory");
  *tmp = *cfg;
  for (size_t gi = 0; gi < cfg->ngroups; gi++) {
    const nco_group_config *g = &cfg->group[gi];
    tmp->hp = g->hp, tmp->optim = g->optim;
    fprintf(fp, "\n[" GROUP_PREFIX "%s]\nparams = %s\ntype = %s\nsteps = %llu\n", g->name, g->params,
            nco_optim_type_name(g->optim), (unsigned long long)g->steps);
    for (size_t i = 0; i < NKEYS; i++) {
      const key *k = &keys[i];
      if (k->base != IN_HP || k->type == T_ALIAS || strcmp(k->section, "optimizer") || !cfg_applies(tmp, k)) continue;
      if (!strncmp(k->name, "proj_", 5) &&
          (g->hp.projection == NCO_PROJ_NONE ||
           (g->hp.projection == NCO_PROJ_BOX) != (!strcmp(k->name, "proj_lo") || !strcmp(k->name, "proj_hi"))))
        continue;
      char text[256];
      if (cfg_value_text(tmp, k, text, sizeof text)) {
        free(tmp);
        return nco_error(NCO_ERR_NOMEM, "cannot write the resolved spec: out of memory");
      }
      fprintf(fp, "%s = %s\n", k->name, text);
    }
  }
  free(tmp);
  return NCO_OK;
}
