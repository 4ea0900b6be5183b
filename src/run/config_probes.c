/* Probes in the spec: what a probe needs checked against the spec, and
 * parsing of [probes]. Names, needs, cost, applicability and help come
 * from the probe registry (NCO_PROBE_TABLE in ncopt/config.h, probes.c). */
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
  const nco_probe_info *in = nco_probe_info_get(id);
  return in ? in->name : "?";
}

/* What a probe needs that the problem or the spec may not have: the
 * registry's needs (NCO_PROBE_TABLE) against what this spec provides,
 * reported at the probe's line with the registry's words. */
int cfg_probe_requirements(const nco_spec *spec, const nco_config *cfg) {
  unsigned have = ~0u;
  if (!cfg->x_star[0]) have &= ~(unsigned)NCO_PROBE_NEEDS_X_STAR;
  if (!nco_config_is_least_squares(cfg)) have &= ~(unsigned)NCO_PROBE_NEEDS_JACOBIAN;
  for (int p = 0; p < NCO_PROBE_COUNT; p++) {
    unsigned miss = cfg->probe_every[p] ? nco_probe_unmet((nco_probe_id)p, have) : 0;
    if (!miss) continue;
    unsigned bit = miss & (~miss + 1); /* the lowest unmet need */
    nco_spec_entry *pe = nco_spec_find(spec, "probes", nco_probe_name(p));
    char m[300];
    if (bit == NCO_PROBE_NEEDS_JACOBIAN)
      snprintf(m, sizeof m, "needs %s; %s has none", nco_probe_need_text(bit),
               nco_config_is_network(cfg) ? "a network with loss = cross_entropy" : cfg->problem_type);
    else
      snprintf(m, sizeof m, "needs %s", nco_probe_need_text(bit));
    return cfg_kerr(spec, pe, "probes", nco_probe_name(p), NCO_ERR_INVALID, "%s", m, NULL);
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
