/* Probes in the spec: names, help and applicability, what a probe needs,
 * and parsing of [probes]. (Moved verbatim from config.c; to be replaced
 * by the probe registry.) */
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


const char *nco_probe_name(nco_probe_id id) {
  static const char *const names[] = {
#define NCO_X_PROBE(name, help) #name,
      NCO_PROBE_LIST(NCO_X_PROBE)
#undef NCO_X_PROBE
  };
  return (unsigned)id < NCO_PROBE_COUNT ? names[id] : "?";
}

NCO_HIDDEN const char *cfg_probe_applies(nco_probe_id id) {
  switch (id) {
    case NCO_PROBE_quasi_convexity:
    case NCO_PROBE_rsi: return "all (needs run.x_star)";
    case NCO_PROBE_jac_smax:
    case NCO_PROBE_jac_smin:
    case NCO_PROBE_misfit: return "least squares";
    default: return "all";
  }
}

NCO_HIDDEN const char *cfg_probe_help(nco_probe_id id) {
  static const char *const h[] = {
#define NCO_X_PROBE(name, help) help,
      NCO_PROBE_LIST(NCO_X_PROBE)
#undef NCO_X_PROBE
  };
  return h[id];
}

/* What a probe needs that the problem or the spec may not have. */
int cfg_probe_requirements(const nco_spec *spec, const nco_config *cfg) {
  int net = nco_config_is_network(cfg);
  /* probes that need what the problem or the spec does not have */
  static const struct { nco_probe_id id; int what; } need[] = {
      {NCO_PROBE_quasi_convexity, 0}, {NCO_PROBE_rsi, 0},      {NCO_PROBE_jac_smax, 1},
      {NCO_PROBE_jac_smin, 1},        {NCO_PROBE_misfit, 1}};
  for (size_t i = 0; i < sizeof need / sizeof *need; i++) {
    nco_probe_id id = need[i].id;
    if (!cfg->probe_every[id]) continue;
    nco_spec_entry *pe = nco_spec_find(spec, "probes", nco_probe_name(id));
    if (need[i].what == 0 && !cfg->x_star[0])
      return cfg_kerr(spec, pe, "probes", nco_probe_name(id), NCO_ERR_INVALID,
                  "needs a known minimiser: set run.x_star = a .npy file with x*", NULL, NULL);
    if (need[i].what == 1 && !nco_config_is_least_squares(cfg)) {
      char m[200];
      snprintf(m, sizeof m, "needs a least-squares problem (residuals); %s has none",
               net ? "a network with loss = cross_entropy" : cfg->problem_type);
      return cfg_kerr(spec, pe, "probes", nco_probe_name(id), NCO_ERR_INVALID, "%s", m, NULL);
    }
  }
  return NCO_OK;
}

/* [probes]: name = true | false | K */
void cfg_probe_parse(const nco_spec *spec, nco_config *cfg, struct errs *el) {
  nco_spec_entry *e;
  for (int p = 0; p < NCO_PROBE_COUNT; p++) {
    if (!(e = nco_spec_find(spec, "probes", nco_probe_name(p)))) continue;
    e->used = 1;
    int b;
    uint64_t K;
    if (!cfg_parse_bool(e->value, &b) && strcmp(e->value, "1"))
      cfg->probe_every[p] = b ? NCO_PROBE_AT_LOG : 0;
    else if (!cfg_parse_u64(e->value, &K) && K > 0 && K <= 1000000000000000000ull)
      cfg->probe_every[p] = (int64_t)K;
    else
      cfg_note(el, cfg_kerr(spec, e, "probes", nco_probe_name(p), NCO_ERR_INVALID,
                    "'%s' is not true, false or a step count K in [1, 1e18]", e->value, NULL));
  }
}
