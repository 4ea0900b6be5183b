/* Parameter groups (run_state.h, [group.NAME] in docs/SPEC.md): the run's
 * θ is split into slices, each stepped by its own optimiser.
 *
 * One round (the run's step t → t + 1) draws one minibatch; then, group
 * after group in the declared order, the group's optimiser takes `steps`
 * steps on that batch at lr_g(t) (the schedule with base value the group's
 * lr, as a torch scheduler scales every param group's lr), its objective
 * being the block of the problem at the current values of the other groups
 * (nco_problem_block: Gauss–Seidel order, a later group sees the earlier
 * groups' new values). Parameters in no group stay at θ_0 (frozen). The
 * run's θ_t is run.theta: after every step the group's iterate is copied
 * into its slice. A run without [group.NAME] sections keeps its single
 * optimiser on all of θ (run.o, not a group of one): those runs compute
 * exactly what they computed before groups existed. */
#include "run_state.h"

/* ---- resolving `params` --------------------------------------------------- */

typedef struct names {
  nco_param_group pg[MAX_LAYERS];
  size_t npg;
} names;

/* "FILE:LINE: group.NAME.params" of group g into buf */
static const char *where(const run *r, size_t g, char *buf, size_t cap) {
  snprintf(buf, cap, "%s:%d: group.%s.params", r->cfg.spec_path, r->cfg.group[g].line, r->cfg.group[g].name);
  return buf;
}

/* The slice names the problem offers, for messages: "x, p, fc1, fc2" */
static void list_names(const run *r, const names *nm, char *out, size_t cap) {
  size_t n = (size_t)snprintf(out, cap, "all%s", r->dim_x < r->dim ? ", x, p" : "");
  for (size_t i = 0; i < nm->npg && n < cap; i++) n += (size_t)snprintf(out + n, cap - n, ", %s", nm->pg[i].name);
}

/* One token of `params`: a slice name or an index range A:B. */
static int token_slice(const run *r, const names *nm, const char *tok, size_t *off, size_t *len) {
  unsigned long long a, b;
  char tail;
  if (sscanf(tok, "%llu:%llu%c", &a, &b, &tail) == 2) {
    if (!(a < b && b <= r->dim)) return 0;
    *off = (size_t)a, *len = (size_t)(b - a);
    return 1;
  }
  if (!strcmp(tok, "all")) return *off = 0, *len = r->dim, 1;
  /* a wrapper's parts: x the wrapped problem's parameters, p the invex lifting's */
  if (r->dim_x < r->dim && !strcmp(tok, "x")) return *off = 0, *len = r->dim_x, 1;
  if (r->dim_x < r->dim && !strcmp(tok, "p")) return *off = r->dim_x, *len = r->dim - r->dim_x, 1;
  for (size_t i = 0; i < nm->npg; i++)
    if (!strcmp(tok, nm->pg[i].name)) return *off = nm->pg[i].offset, *len = nm->pg[i].length, 1;
  return 0;
}

static int cmp_slice(const void *a, const void *b) {
  const size_t *x = a, *y = b;
  return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* Group g's params into one contiguous slice (its optimiser's vector). */
static int resolve_one(run *r, const names *nm, size_t g) {
  char buf[256], w[1200], avail[800];
  size_t sl[64][2], ns = 0;
  snprintf(buf, sizeof buf, "%s", r->cfg.group[g].params);
  char *save = NULL;
  for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    while (*tok == ' ' || *tok == '\t') tok++;
    for (size_t L = strlen(tok); L && (tok[L - 1] == ' ' || tok[L - 1] == '\t');) tok[--L] = '\0';
    if (ns == 64) return nco_error(NCO_ERR_RANGE, "%s: at most 64 names or ranges", where(r, g, w, sizeof w));
    if (!token_slice(r, nm, tok, &sl[ns][0], &sl[ns][1])) {
      list_names(r, nm, avail, sizeof avail);
      return nco_error(NCO_ERR_INVALID, "%s: '%s' is neither a slice of this problem (%s) nor a range A:B with 0 <= A < B <= %zu",
                       where(r, g, w, sizeof w), tok, avail, r->dim);
    }
    ns++;
  }
  if (!ns) return nco_error(NCO_ERR_INVALID, "%s: no parameters named", where(r, g, w, sizeof w));
  qsort(sl, ns, sizeof sl[0], cmp_slice);
  for (size_t i = 1; i < ns; i++)
    if (sl[i][0] != sl[i - 1][0] + sl[i - 1][1])
      return nco_error(NCO_ERR_INVALID, "%s: the slices [%zu, %zu) and [%zu, %zu) %s: a group is one contiguous slice of θ",
                       where(r, g, w, sizeof w), sl[i - 1][0], sl[i - 1][0] + sl[i - 1][1], sl[i][0], sl[i][0] + sl[i][1],
                       sl[i][0] < sl[i - 1][0] + sl[i - 1][1] ? "overlap" : "leave a gap");
  group *G = &r->grp[g];
  snprintf(G->name, sizeof G->name, "%s", r->cfg.group[g].name);
  G->off = sl[0][0], G->len = sl[ns - 1][0] + sl[ns - 1][1] - sl[0][0];
  G->steps = r->cfg.group[g].steps;
  G->sched = r->cfg.sched;
  G->sched.c = r->cfg.group[g].hp.lr; /* the schedule scales the group's own lr */
  return NCO_OK;
}

/* The groups' slices (disjoint), methods that fit the run, θ buffers. */
int rs_groups_resolve(run *r, int *spec_error) {
  names nm;
  int st;
  r->ng = r->cfg.ngroups;
  if (!r->ng) return NCO_OK;
  if ((st = nco_problem_param_groups(r->pb, nm.pg, MAX_LAYERS, &nm.npg))) return st;
  *spec_error = 1;
  for (size_t g = 0; g < r->ng; g++) {
    char w[1200];
    const nco_optim_type *t = r->cfg.group[g].optim;
    if ((st = resolve_one(r, &nm, g))) return st;
    if (!rs_is_full_batch(r) && !nco_optim_type_is_ask_tell(t))
      return nco_error(NCO_ERR_INVALID, "%s:%d: group.%s.type: %s is a full-batch method; set optimizer.batch = 0",
                       r->cfg.spec_path, r->cfg.group[g].line, r->grp[g].name, nco_optim_type_name(t));
    for (size_t h = 0; h < g; h++)
      if (r->grp[g].off < r->grp[h].off + r->grp[h].len && r->grp[h].off < r->grp[g].off + r->grp[g].len)
        return nco_error(NCO_ERR_INVALID, "%s: [%zu, %zu) overlaps group %s's [%zu, %zu): a parameter belongs to one group",
                         where(r, g, w, sizeof w), r->grp[g].off, r->grp[g].off + r->grp[g].len, r->grp[h].name,
                         r->grp[h].off, r->grp[h].off + r->grp[h].len);
  }
  *spec_error = 0;
  r->theta = nco_calloc(r->dim, sizeof(float));
  r->theta_out = nco_calloc(r->dim, sizeof(float));
  if (!r->theta || !r->theta_out) return nco_error(NCO_ERR_NOMEM, "run: out of memory (dim = %zu)", r->dim);
  return NCO_OK;
}

/* ---- the groups' optimisers ------------------------------------------------ */

void rs_groups_free(run *r) {
  for (size_t g = 0; g < NCO_MAX_GROUPS; g++) {
    nco_optim_free(r->grp[g].o), r->grp[g].o = NULL;
    nco_problem_free(r->grp[g].obj), r->grp[g].obj = NULL;
    nco_regularity_free(&r->grp[g].reg);
  }
}

/* θ_0, each group's block and optimiser (seeds: one draw of `seeds` per
 * group in order; the first is the one a run without groups uses). */
int rs_groups_init(run *r, nco_rng *seeds) {
  int st;
  nco_copy(r->dim, r->theta0, r->theta);
  for (size_t g = 0; g < r->ng; g++) {
    group *G = &r->grp[g];
    nco_optim_free(G->o), G->o = NULL;
    nco_problem_free(G->obj), G->obj = NULL;
    nco_optim_params hp = r->cfg.group[g].hp;
    hp.seed = nco_rng_u64(seeds);
    if ((st = nco_problem_block(r->pb, r->theta, G->off, G->len, &G->obj)) ||
        (st = nco_optim_create(r->cfg.group[g].optim, G->len, &hp, r->theta0 + G->off, &G->o)))
      return nco_error_context(st, "group.%s", G->name);
  }
  return NCO_OK;
}

double rs_lr(const run *r, size_t g, uint64_t t) {
  return r->ng ? nco_schedule_lr(&r->grp[g].sched, t) : nco_schedule_lr(&r->cfg.sched, t);
}

/* One round: one minibatch, then every group's steps in order. The round's
 * batch loss is the first evaluation (the loss at θ_t, as without groups). */
int rs_groups_step(run *r, double *batch_loss) {
  const size_t *idx = NULL;
  size_t nb = r->n;
  int conv = 1;
  if (rs_is_full_batch(r)) r->samples += r->n;
  else nb = rs_next_batch(r), idx = r->idx;
  *batch_loss = NAN;
  for (size_t g = 0; g < r->ng; g++) {
    group *G = &r->grp[g];
    nco_optim_set_lr(G->o, nco_schedule_lr(&G->sched, r->t));
    for (uint64_t j = 0; j < G->steps; j++) {
      double loss = NAN;
      int ist = nco_optim_iterate(G->o, G->obj, idx, nb, &loss, NULL);
      /* the block left its last query point in θ: θ holds the iterate again */
      nco_copy(G->len, nco_optim_x(G->o), r->theta + G->off);
      if (ist < 0) return nco_error_context(ist, "group.%s", G->name);
      if (g == 0 && j == 0) *batch_loss = loss;
      conv &= ist == NCO_CONVERGED;
    }
  }
  return conv ? NCO_CONVERGED : NCO_OK;
}

const float *rs_x(const run *r) { return r->ng ? r->theta : nco_optim_x(r->o); }

/* The point the run reports: each group's output (an averaging method's
 * may differ from its iterate), the frozen rest θ_0. */
const float *rs_output(run *r) {
  if (!r->ng) return nco_optim_output(r->o);
  nco_copy(r->dim, r->theta, r->theta_out);
  for (size_t g = 0; g < r->ng; g++) nco_copy(r->grp[g].len, nco_optim_output(r->grp[g].o), r->theta_out + r->grp[g].off);
  return r->theta_out;
}

/* ---- checkpoints: the optimisers' states, one blob ------------------------ *
 * Without groups the blob is run.o's state (the format of every earlier
 * run); with groups, per group in order: u64 length, then the state. */

size_t rs_optim_state_size(const run *r) {
  if (!r->ng) return nco_optim_state_size(r->o);
  size_t n = 0;
  for (size_t g = 0; g < r->ng; g++) n += 8 + nco_optim_state_size(r->grp[g].o);
  return n;
}

int rs_optim_save(const run *r, unsigned char *buf, size_t len) {
  if (!r->ng) return nco_optim_save(r->o, buf, len);
  size_t off = 0;
  for (size_t g = 0; g < r->ng; g++) {
    uint64_t n = nco_optim_state_size(r->grp[g].o);
    if (len - off < 8 + n) return nco_error(NCO_ERR_INVALID, "checkpoint: the optimiser buffer is too small");
    memcpy(buf + off, &n, 8);
    int st = nco_optim_save(r->grp[g].o, buf + off + 8, (size_t)n);
    if (st) return st;
    off += 8 + (size_t)n;
  }
  return NCO_OK;
}

int rs_optim_load(run *r, const unsigned char *buf, size_t len) {
  if (!r->ng) return nco_optim_load(r->o, buf, len);
  size_t off = 0;
  for (size_t g = 0; g < r->ng; g++) {
    uint64_t n;
    if (len - off < 8) return nco_error(NCO_ERR_FORMAT, "checkpoint: group %s's optimiser state is missing", r->grp[g].name);
    memcpy(&n, buf + off, 8);
    if (n > len - off - 8)
      return nco_error(NCO_ERR_FORMAT, "checkpoint: group %s's optimiser state (%llu bytes) is cut short", r->grp[g].name,
                       (unsigned long long)n);
    int st = nco_optim_load(r->grp[g].o, buf + off + 8, (size_t)n);
    if (st) return nco_error_context(st, "group.%s", r->grp[g].name);
    nco_copy(r->grp[g].len, nco_optim_x(r->grp[g].o), r->theta + r->grp[g].off);
    off += 8 + (size_t)n;
  }
  if (off != len) return nco_error(NCO_ERR_FORMAT, "checkpoint: %zu bytes after the groups' optimiser states", len - off);
  return NCO_OK;
}
