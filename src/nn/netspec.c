/* The [network] section of a spec as a graph (nn.h, "Networks in the
 * spec"), and a torchinfo-like summary of a model.
 *
 * One node a line, `NAME = OP(INPUT, key=value, ...)`, torch.nn's op and
 * key names; `output = NAME` names the output. Lines are parsed first (op,
 * keys, values), then ordered (Kahn's algorithm taking the earliest line
 * whose inputs are placed: a cycle is what is left), checked for unused
 * nodes, and added through nco_nn_add_input / nco_nn_add_node, whose shape
 * errors are reported at the node's line with its input's shape. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/spec.h"
#include "ncopt/status.h"
#include "nn/internal.h"

#define NS_MAX_ARGS 8
#define NS_MAX_KEYS 6

typedef struct ns_op {
  const char *name;
  int kind;                        /* nco_nn_layer_kind, or −1 for input */
  int act;                         /* nco_activation for NCO_NN_ACT */
  const char *keys[NS_MAX_KEYS];   /* in positional order after the input */
  int multi;                       /* 1: every positional argument is an input (≥ 2), keys by name */
} ns_op;

static const ns_op ns_ops[] = {
    {"input", -1, 0, {"kind"}, 0},
    {"linear", NCO_NN_DENSE, 0, {"out_features", "bias"}, 0},
    {"conv2d", NCO_NN_CONV2D, 0, {"out_channels", "kernel_size", "stride", "padding", "bias", "dilation"}, 0},
    {"maxpool2d", NCO_NN_MAXPOOL2D, 0, {"kernel_size", "stride"}, 0},
    {"avgpool2d", NCO_NN_AVGPOOL2D, 0, {"kernel_size", "stride"}, 0},
    {"flatten", NCO_NN_FLATTEN, 0, {NULL}, 0},
    {"dropout", NCO_NN_DROPOUT, 0, {"p"}, 0},
    {"batchnorm", NCO_NN_BATCHNORM, 0, {"eps", "momentum", "affine"}, 0},
    {"identity", NCO_NN_ACT, NCO_ACT_IDENTITY, {"mix"}, 0},
    {"sigmoid", NCO_NN_ACT, NCO_ACT_SIGMOID, {"mix"}, 0},
    {"tanh", NCO_NN_ACT, NCO_ACT_TANH, {"mix"}, 0},
    {"softplus", NCO_NN_ACT, NCO_ACT_SOFTPLUS, {"mix"}, 0},
    {"relu", NCO_NN_ACT, NCO_ACT_RELU, {"mix"}, 0},
    {"leaky_relu", NCO_NN_ACT, NCO_ACT_LEAKY_RELU, {"negative_slope", "mix"}, 0},
    {"elu", NCO_NN_ACT, NCO_ACT_ELU, {"alpha", "mix"}, 0},
    {"conv_transpose2d", NCO_NN_CONV_TRANSPOSE2D, 0,
     {"out_channels", "kernel_size", "stride", "padding", "output_padding", "bias"}, 0},
    {"upsample", NCO_NN_UPSAMPLE, 0, {"scale_factor", "mode"}, 0},
    {"global_avgpool", NCO_NN_GLOBAL_AVGPOOL, 0, {NULL}, 0},
    {"unflatten", NCO_NN_UNFLATTEN, 0, {"channels", "height", "width"}, 0},
    {"add", NCO_NN_ADD, 0, {NULL}, 1},
    {"concat", NCO_NN_CONCAT, 0, {"dim"}, 1},
};
#define NS_NOPS (sizeof ns_ops / sizeof ns_ops[0])

typedef struct ns_arg {
  char key[32];                    /* "" for a positional argument */
  char val[64];
} ns_arg;

typedef struct ns_line {
  const nco_spec_entry *e;
  char where[300];
  const ns_op *op;                 /* NULL: `output = NAME` */
  ns_arg a[NS_MAX_ARGS];
  size_t na;
  char input[NN_MAX_IN][32];       /* the nodes it reads (none for input) */
  size_t nin;
  long dep[NN_MAX_IN];             /* their line indices */
  int placed, used;
} ns_line;

/* ---- messages -------------------------------------------------------------- */

static int ns_err(const ns_line *L, int code, const char *fmt, const char *a, const char *b) {
  char msg[1200];
  snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
  return nco_error(code, "%s: network.%s: %s", L->where, L->e->key, msg);
}

/* ", did you mean X?" for the closest of names (distance ≤ 3), or "". */
static void suggest(const char *word, const char *const *names, size_t n, char *out, size_t len) {
  size_t best = 4, bi = n;
  out[0] = 0;
  for (size_t i = 0; i < n; i++) {
    if (!names[i]) continue;
    size_t d = nco_edit_distance(word, names[i]);
    if (d < best) best = d, bi = i;
  }
  if (bi < n) snprintf(out, len, " (did you mean \"%s\"?)", names[bi]);
}

/* ---- parsing one line ---------------------------------------------------- */

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
  return s;
}

static int is_ident(const char *s) {
  if (!(isalpha((unsigned char)*s) || *s == '_')) return 0;
  for (; *s; s++)
    if (!(isalnum((unsigned char)*s) || *s == '_')) return 0;
  return 1;
}

static int find_op(ns_line *L, const char *name) {
  const char *names[NS_NOPS];
  char sg[80];
  for (size_t i = 0; i < NS_NOPS; i++) {
    names[i] = ns_ops[i].name;
    if (!strcmp(name, ns_ops[i].name)) return L->op = &ns_ops[i], NCO_OK;
  }
  suggest(name, names, NS_NOPS, sg, sizeof sg);
  return ns_err(L, NCO_ERR_INVALID, "unknown op \"%s\"%s (ops: input, linear, conv2d, maxpool2d, avgpool2d, "
                "conv_transpose2d, upsample, global_avgpool, flatten, unflatten, dropout, batchnorm, identity, sigmoid, tanh, "
                "softplus, relu, leaky_relu, elu, add, concat)",
                name, sg);
}

/* Splits "a, k=v, ..." into L->a. */
static int split_args(ns_line *L, char *body) {
  char *save = NULL;
  if (!*trim(body)) return NCO_OK;
  for (char *tok = strtok_r(body, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (L->na == NS_MAX_ARGS) return ns_err(L, NCO_ERR_INVALID, "more than 8 arguments", NULL, NULL);
    ns_arg *a = &L->a[L->na++];
    char *eq = strchr(tok, '=');
    char *v = tok;
    if (eq) {
      *eq = 0;
      char *k = trim(tok);
      if (!is_ident(k) || strlen(k) >= sizeof a->key)
        return ns_err(L, NCO_ERR_INVALID, "\"%s\" is not a key name", k, NULL);
      snprintf(a->key, sizeof a->key, "%s", k);
      v = eq + 1;
    }
    v = trim(v);
    if (!*v || strlen(v) >= sizeof a->val) return ns_err(L, NCO_ERR_INVALID, "empty or too long argument \"%s\"", v, NULL);
    snprintf(a->val, sizeof a->val, "%s", v);
  }
  return NCO_OK;
}

static int parse_line(ns_line *L) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", L->e->value);
  char *s = trim(buf);
  char *lp = strchr(s, '(');
  if (!lp) {
    if (strcmp(L->e->key, "output"))
      return ns_err(L, NCO_ERR_INVALID, "\"%s\" is not OP(INPUT, key=value, ...) (only `output = NODE` names a node)", s,
                    NULL);
    if (!is_ident(s) || strlen(s) >= sizeof L->input[0])
      return ns_err(L, NCO_ERR_INVALID, "\"%s\" is not a node name", s, NULL);
    snprintf(L->input[0], sizeof L->input[0], "%s", s);
    L->nin = 1;
    return NCO_OK;
  }
  size_t n = strlen(s);
  if (s[n - 1] != ')') return ns_err(L, NCO_ERR_INVALID, "\"%s\": missing ')' at the end", s, NULL);
  s[n - 1] = 0;
  *lp = 0;
  int st = find_op(L, trim(s));
  if (st) return st;
  if ((st = split_args(L, lp + 1))) return st;
  if (L->op->kind < 0) return NCO_OK;
  /* the input nodes: the first positional argument, or (multi) all of them */
  while (L->nin < L->na && !L->a[L->nin].key[0] && (L->nin == 0 || L->op->multi)) {
    const char *v = L->a[L->nin].val;
    if (!is_ident(v) || strlen(v) >= sizeof L->input[0]) break;
    if (L->nin == NN_MAX_IN) return ns_err(L, NCO_ERR_INVALID, "%s takes at most 4 inputs", L->op->name, NULL);
    memcpy(L->input[L->nin], v, strlen(v) + 1); /* < 32 bytes: checked above */
    L->nin++;
  }
  if (L->nin == 0)
    return ns_err(L, NCO_ERR_INVALID, "%s needs its input node first: %s(NODE, ...)", L->op->name, L->op->name);
  if (L->op->multi && L->nin < 2)
    return ns_err(L, NCO_ERR_INVALID, "%s needs two or more input nodes: %s(NODE, NODE, ...)", L->op->name, L->op->name);
  return NCO_OK;
}

/* ---- values ------------------------------------------------------------------ */

/* The value of key (or of its positional slot), or NULL. */
static const char *get(ns_line *L, const char *key) {
  size_t pos = 1; /* positional slots after the input (input(...) and multi-input ops: only keys) */
  if (L->op->kind < 0 || L->op->multi) pos = (size_t)-1;
  for (size_t k = 0; k < NS_MAX_KEYS && L->op->keys[k]; k++, pos++)
    if (!strcmp(L->op->keys[k], key)) break;
  for (size_t i = 0; i < L->na; i++)
    if (L->a[i].key[0] ? !strcmp(L->a[i].key, key) : (pos != (size_t)-1 && i == pos)) return L->a[i].val;
  return NULL;
}

/* Every key known, no key twice, positional arguments within the keys. */
static int check_keys(ns_line *L) {
  size_t nk = 0, first = L->op->kind < 0 ? 0 : L->nin;
  while (nk < NS_MAX_KEYS && L->op->keys[nk]) nk++;
  for (size_t i = first; i < L->na; i++) {
    const ns_arg *a = &L->a[i];
    char sg[80];
    if (!a->key[0]) {
      if (L->op->kind < 0) continue; /* input's dimensions */
      if (L->op->multi)
        return ns_err(L, NCO_ERR_INVALID, "\"%s\": %s takes its keys by name (key=value)", a->val, L->op->name);
      if (i > nk) return ns_err(L, NCO_ERR_INVALID, "too many arguments for %s", L->op->name, NULL);
      if (i > 1 && L->a[i - 1].key[0])
        return ns_err(L, NCO_ERR_INVALID, "positional argument \"%s\" after a key=value", a->val, NULL);
      continue;
    }
    size_t k = 0;
    while (k < nk && strcmp(L->op->keys[k], a->key)) k++;
    if (k == nk) {
      suggest(a->key, L->op->keys, nk, sg, sizeof sg);
      return ns_err(L, NCO_ERR_INVALID, "unknown key \"%s\" for this op%s", a->key, sg);
    }
    for (size_t j = first; j < i; j++)
      if ((L->a[j].key[0] && !strcmp(L->a[j].key, a->key)) || (!L->a[j].key[0] && first && j == k + 1))
        return ns_err(L, NCO_ERR_INVALID, "key \"%s\" given twice", a->key, NULL);
  }
  return NCO_OK;
}

static int get_size(ns_line *L, const char *key, size_t def, int required, size_t min, size_t *out) {
  const char *v = get(L, key);
  if (!v) {
    if (required) return ns_err(L, NCO_ERR_INVALID, "missing key %s", key, NULL);
    *out = def;
    return NCO_OK;
  }
  char *end;
  errno = 0;
  unsigned long long x = strtoull(v, &end, 10);
  if (*end || errno || v[0] == '-' || !isdigit((unsigned char)v[0]) || x < min)
    return ns_err(L, NCO_ERR_RANGE, min ? "%s = %s: expected a whole number >= 1" : "%s = %s: expected a whole number >= 0",
                  key, v);
  *out = (size_t)x;
  return NCO_OK;
}

static int get_bool(ns_line *L, const char *key, int def, int *out) {
  const char *v = get(L, key);
  *out = def;
  if (!v) return NCO_OK;
  if (!strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "1")) return *out = 1, NCO_OK;
  if (!strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "0")) return *out = 0, NCO_OK;
  return ns_err(L, NCO_ERR_INVALID, "%s = %s: expected true or false", key, v);
}

static int get_real(ns_line *L, const char *key, double def, double lo, double hi, double *out) {
  const char *v = get(L, key);
  *out = def;
  if (!v) return NCO_OK;
  char *end;
  double x = strtod(v, &end);
  char rng[80];
  snprintf(rng, sizeof rng, "%s = %%s: expected a number in [%g, %g%s", key, lo, hi, hi == 1 && lo == 0 && !strcmp(key, "p") ? ")" : "]");
  if (*end || !isfinite(x) || x < lo || x > hi || (!strcmp(key, "p") && x >= 1))
    return ns_err(L, NCO_ERR_RANGE, rng, v, NULL);
  *out = x;
  return NCO_OK;
}

/* The op's hyper-parameters from the line's keys. */
static int node_spec(ns_line *L, nco_nn_node_spec *o) {
  int st = NCO_OK;
  memset(o, 0, sizeof *o);
  o->kind = (nco_nn_layer_kind)L->op->kind;
  switch (o->kind) {
    case NCO_NN_DENSE:
      if (!(st = get_size(L, "out_features", 0, 1, 1, &o->out))) st = get_bool(L, "bias", 1, &o->bias);
      break;
    case NCO_NN_CONV2D:
      if (!(st = get_size(L, "out_channels", 0, 1, 1, &o->out)) && !(st = get_size(L, "kernel_size", 0, 1, 1, &o->kh)) &&
          !(st = get_size(L, "stride", 1, 0, 1, &o->stride)) && !(st = get_size(L, "padding", 0, 0, 0, &o->pad)) &&
          !(st = get_bool(L, "bias", 1, &o->bias)))
        st = get_size(L, "dilation", 1, 0, 1, &o->dilation);
      o->kw = o->kh;
      break;
    case NCO_NN_CONV_TRANSPOSE2D:
      if (!(st = get_size(L, "out_channels", 0, 1, 1, &o->out)) && !(st = get_size(L, "kernel_size", 0, 1, 1, &o->kh)) &&
          !(st = get_size(L, "stride", 1, 0, 1, &o->stride)) && !(st = get_size(L, "padding", 0, 0, 0, &o->pad)) &&
          !(st = get_size(L, "output_padding", 0, 0, 0, &o->opad)))
        st = get_bool(L, "bias", 1, &o->bias);
      o->kw = o->kh;
      break;
    case NCO_NN_MAXPOOL2D:
    case NCO_NN_AVGPOOL2D:
      if (!(st = get_size(L, "kernel_size", 0, 1, 1, &o->kh))) st = get_size(L, "stride", 0, 0, 1, &o->stride);
      o->kw = o->kh;
      break;
    case NCO_NN_DROPOUT: st = get_real(L, "p", 0.5, 0, 1, &o->p); break;
    case NCO_NN_BATCHNORM:
      if (!(st = get_real(L, "eps", 1e-5, 0, INFINITY, &o->eps)) && !(o->eps > 0))
        st = ns_err(L, NCO_ERR_RANGE, "eps = %s: expected a number > 0", get(L, "eps"), NULL);
      if (!st && !(st = get_real(L, "momentum", 0.1, 0, 1, &o->momentum))) st = get_bool(L, "affine", 1, &o->bias);
      break;
    case NCO_NN_ACT:
      o->act = nco_act_make((nco_activation)L->op->act);
      if (o->act.kind == NCO_ACT_LEAKY_RELU) st = get_real(L, "negative_slope", o->act.slope, 0, INFINITY, &o->act.slope);
      if (!st && o->act.kind == NCO_ACT_ELU) st = get_real(L, "alpha", o->act.slope, 0, INFINITY, &o->act.slope);
      if (!st) st = get_real(L, "mix", 0, 0, 1, &o->act.mix);
      break;
    case NCO_NN_CONCAT: {
      const char *d = get(L, "dim");
      if (d && strcmp(d, "1")) /* NCHW / (N, F): the channels or features */
        st = ns_err(L, NCO_ERR_RANGE, "dim = %s: concat joins the channels (dim=1, the default)", d, NULL);
      break;
    }
    case NCO_NN_UPSAMPLE: {
      const char *md = get(L, "mode");
      if ((st = get_size(L, "scale_factor", 2, 0, 1, &o->stride))) break;
      if (!md || !strcmp(md, "nearest") || !strcmp(md, "'nearest'")) o->mode = 0;
      else if (!strcmp(md, "bilinear") || !strcmp(md, "'bilinear'")) o->mode = 1;
      else st = ns_err(L, NCO_ERR_INVALID, "mode = %s: expected nearest or bilinear", md, NULL);
      break;
    }
    case NCO_NN_UNFLATTEN:
      if (!(st = get_size(L, "channels", 0, 1, 1, &o->out)) && !(st = get_size(L, "height", 1, 0, 1, &o->kh)))
        st = get_size(L, "width", 1, 0, 1, &o->kw);
      break;
    case NCO_NN_FLATTEN:
    case NCO_NN_GLOBAL_AVGPOOL:
    case NCO_NN_ADD: break;
  }
  return st;
}

/* ---- the input line --------------------------------------------------------- */

static void shape_str(size_t nd, const size_t *s, char *out, size_t len) {
  size_t k = 0;
  out[0] = 0;
  for (size_t i = 0; i < nd && k < len; i++) {
    int r = snprintf(out + k, len - k, "%s%zu", i ? ", " : "(", s[i]);
    if (r < 0) return;
    k += (size_t)r;
  }
  if (k < len) snprintf(out + k, len - k, nd == 1 ? ",)" : ")");
}

/* Does the declared per-sample shape fit the data's? (Same size, and for
 * image data the same (C, H, W), a 2-d (H, W) sample being C = 1.) */
static int shape_fits(size_t nd, const size_t *s, size_t dnd, const size_t *ds) {
  size_t a = 1, b = 1;
  for (size_t i = 0; i < nd; i++) a *= s[i];
  for (size_t i = 0; i < dnd; i++) b *= ds[i];
  if (a != b) return 0;
  if (nd == 1 || dnd == 1) return 1; /* a flat sample is reshaped */
  if (dnd == 3) return ds[0] == s[0] && ds[1] == s[1] && ds[2] == s[2];
  if (dnd == 2) return s[0] == 1 && ds[0] == s[1] && ds[1] == s[2];
  return 0;
}

static int add_input(ns_line *L, nco_nn_model *m, size_t dnd, const size_t *ds) {
  static const char *kinds[] = {"data", "targets", "noise", "graph"};
  size_t shape[3], nd = 0;
  int kind = NCO_NN_IN_DATA, st;
  for (size_t i = 0; i < L->na; i++) {
    if (L->a[i].key[0]) continue;
    if (nd == 3) return ns_err(L, NCO_ERR_SHAPE, "input takes 1 (features) or 3 (channels, height, width) sizes", NULL, NULL);
    char key[16];
    snprintf(key, sizeof key, "size %zu", nd + 1);
    const char *v = L->a[i].val;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (*end || !isdigit((unsigned char)v[0]) || x == 0)
      return ns_err(L, NCO_ERR_RANGE, "%s = %s: expected a whole number >= 1", key, v);
    shape[nd++] = (size_t)x;
  }
  if (nd != 1 && nd != 3)
    return ns_err(L, NCO_ERR_SHAPE, "input takes 1 (features) or 3 (channels, height, width) sizes", NULL, NULL);
  const char *kv = get(L, "kind");
  if (kv) {
    for (kind = 0; kind < 4 && strcmp(kinds[kind], kv); kind++) {}
    if (kind == 4) return ns_err(L, NCO_ERR_INVALID, "kind = %s: expected data, targets, noise or graph", kv, NULL);
  }
  if (kind == NCO_NN_IN_DATA && dnd && !shape_fits(nd, shape, dnd, ds)) {
    char a[64], b[64];
    shape_str(nd, shape, a, sizeof a);
    shape_str(dnd, ds, b, sizeof b);
    return ns_err(L, NCO_ERR_SHAPE, "shape mismatch: the input is declared %s but the data's samples have shape %s", a, b);
  }
  if ((st = nco_nn_add_input(m, L->e->key, (nco_nn_input_kind)kind, nd, shape)))
    return ns_err(L, st, "%s", nco_last_error(), NULL);
  return NCO_OK;
}

/* ---- graph order -------------------------------------------------------------- */

static long find_line(ns_line *Ls, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (Ls[i].op && !strcmp(Ls[i].e->key, name)) return (long)i;
  return -1;
}

/* Resolves every input name; an unknown one is an error at its line. */
static int resolve(ns_line *Ls, size_t n) {
  const char *names[NCO_SPEC_MAX_ENTRIES];
  size_t k = 0;
  for (size_t i = 0; i < n && k < NCO_SPEC_MAX_ENTRIES; i++)
    if (Ls[i].op) names[k++] = Ls[i].e->key;
  for (size_t i = 0; i < n; i++) {
    ns_line *L = &Ls[i];
    for (size_t j = 0; j < L->nin; j++)
      if ((L->dep[j] = find_line(Ls, n, L->input[j])) < 0) {
        char sg[80];
        suggest(L->input[j], names, k, sg, sizeof sg);
        return ns_err(L, NCO_ERR_RANGE, "unknown node \"%s\"%s", L->input[j], sg);
      }
  }
  return NCO_OK;
}

/* The first input of line i not yet placed (every unplaced line has one
 * when the rest form cycles). */
static size_t unplaced_dep(const ns_line *Ls, size_t i) {
  for (size_t j = 0; j < Ls[i].nin; j++)
    if (!Ls[Ls[i].dep[j]].placed) return (size_t)Ls[i].dep[j];
  return i;
}

/* A cycle through the unplaced lines from line i: "a -> b -> a" into out
 * (*at: a line of the cycle itself, where the error is reported). */
static void cycle_text(ns_line *Ls, size_t n, size_t i, char *out, size_t len, size_t *at) {
  size_t k = 0, cur = i;
  for (size_t step = 0; step < n; step++) cur = unplaced_dep(Ls, cur); /* into the cycle */
  size_t start = cur;
  *at = start;
  out[0] = 0;
  do {
    int r = snprintf(out + k, len - k, "%s -> ", Ls[cur].e->key);
    if (r < 0 || (size_t)r >= len - k) return;
    k += (size_t)r;
    cur = unplaced_dep(Ls, cur);
  } while (cur != start);
  snprintf(out + k, len - k, "%s", Ls[start].e->key);
}

static int ready(const ns_line *Ls, size_t i) {
  if (!Ls[i].op || Ls[i].placed) return 0;
  for (size_t j = 0; j < Ls[i].nin; j++)
    if (!Ls[Ls[i].dep[j]].placed) return 0;
  return 1;
}

/* order[] ← the node lines in execution order (earliest line first among
 * the ready ones); the inputs are not in it. */
static int topo_order(ns_line *Ls, size_t n, size_t *order, size_t *norder) {
  size_t k = 0, total = 0;
  for (size_t i = 0; i < n; i++) {
    if (Ls[i].op && Ls[i].op->kind < 0) Ls[i].placed = 1;
    total += Ls[i].op && Ls[i].op->kind >= 0;
  }
  while (k < total) {
    size_t i = 0;
    while (i < n && !ready(Ls, i)) i++;
    if (i == n) break;
    Ls[i].placed = 1;
    order[k++] = i;
  }
  *norder = k;
  if (k == total) return NCO_OK;
  for (size_t i = 0; i < n; i++)
    if (Ls[i].op && !Ls[i].placed) {
      char cyc[400];
      size_t at;
      cycle_text(Ls, n, i, cyc, sizeof cyc, &at);
      return ns_err(&Ls[at], NCO_ERR_INVALID, "the nodes form a cycle: %s", cyc, NULL);
    }
  return NCO_OK;
}

/* Marks the lines the output depends on (depth first, an explicit stack
 * of at most n lines: each is pushed once); an unused node is an error. */
static int check_used(ns_line *Ls, size_t n, size_t out, size_t *stack) {
  size_t top = 0;
  Ls[out].used = 1, stack[top++] = out;
  while (top) {
    const ns_line *L = &Ls[stack[--top]];
    for (size_t j = 0; j < L->nin; j++)
      if (!Ls[L->dep[j]].used) Ls[L->dep[j]].used = 1, stack[top++] = (size_t)L->dep[j];
  }
  for (size_t i = 0; i < n; i++)
    if (Ls[i].op && !Ls[i].used)
      return ns_err(&Ls[i], NCO_ERR_INVALID, "node \"%s\" is not used by the output", Ls[i].e->key, NULL);
  return NCO_OK;
}

/* ---- the builder ------------------------------------------------------------- */

/* "\"a\" of shape (16, 14, 14)" for each input of L into out */
static void input_shapes(const ns_line *L, const nco_nn_model *m, char *out, size_t len) {
  size_t k = 0;
  out[0] = 0;
  for (size_t j = 0; j < L->nin && k < len; j++) {
    char shp[64];
    long lev = nn_find_level(m, L->input[j]);
    size_t s[3] = {0, 0, 0}, nd = 1;
    if (lev >= 0 && (size_t)lev < m->nin) {
      const nn_input *x = &m->inputs[lev];
      s[0] = x->c, s[1] = x->h, s[2] = x->w, nd = x->flat ? 1 : 3;
    } else if (lev >= 0) {
      const nn_layer *x = &m->layers[(size_t)lev - m->nin];
      s[0] = x->oc, s[1] = x->oh, s[2] = x->ow, nd = x->out_flat ? 1 : 3;
    }
    shape_str(nd, s, shp, sizeof shp);
    int r = snprintf(out + k, len - k, "%s\"%s\" of shape %s", j ? " and " : "", L->input[j], shp);
    if (r < 0) return;
    k += (size_t)r;
  }
}

static int add_line(ns_line *L, nco_nn_model *m) {
  nco_nn_node_spec o;
  int st;
  if ((st = node_spec(L, &o))) return st;
  const char *in[NN_MAX_IN];
  for (size_t j = 0; j < L->nin; j++) in[j] = L->input[j];
  if ((st = nco_nn_add_node(m, L->e->key, &o, L->nin, in))) {
    char msg[900], shp[400];
    input_shapes(L, m, shp, sizeof shp);
    snprintf(msg, sizeof msg, "%s on %s: %.400s", L->op->name, shp, nco_last_error());
    return ns_err(L, st, "%s", msg, NULL);
  }
  return NCO_OK;
}

static int parse_all(const nco_spec *spec, ns_line *Ls, size_t *n, long *out) {
  int st;
  *out = -1;
  for (size_t i = 0; i < spec->n; i++) {
    const nco_spec_entry *e = &spec->e[i];
    if (strcmp(e->section, "network")) continue;
    ns_line *L = &Ls[(*n)++];
    memset(L, 0, sizeof *L);
    L->e = e;
    nco_spec_where(e, L->where, sizeof L->where);
    if (!is_ident(e->key) || strlen(e->key) >= sizeof L->input[0])
      return ns_err(L, NCO_ERR_INVALID, "\"%s\" is not a node name ([A-Za-z_][A-Za-z0-9_]*, at most 31 characters)",
                    e->key, NULL);
    if ((st = parse_line(L)) || (L->op && (st = check_keys(L)))) return st;
    if (!strcmp(e->key, "output")) *out = (long)(*n - 1);
  }
  return NCO_OK;
}

int nco_nn_graph_from_spec(const nco_spec *spec, size_t data_ndim, const size_t *data_shape,
                           nco_nn_model **out) {
  int st;
  ns_line *Ls = NULL;
  size_t n = 0, *order = NULL, *stack = NULL, norder = 0;
  long outl;
  nco_nn_model *m = NULL;
  if (!out) return nco_error(NCO_ERR_INVALID, "network spec: output pointer is NULL");
  *out = NULL;
  if (!spec || (data_ndim && !data_shape)) return nco_error(NCO_ERR_INVALID, "network spec: NULL argument");
  if (!(Ls = calloc(spec->n ? spec->n : 1, sizeof *Ls)) || !(order = calloc(spec->n ? spec->n : 1, sizeof *order))) {
    st = nco_error(NCO_ERR_NOMEM, "network spec: out of memory");
    goto done;
  }
  if ((st = parse_all(spec, Ls, &n, &outl))) goto done;
  if (n == 0) {
    st = nco_error(NCO_ERR_INVALID, "%s: no [network] section (one node a line: NAME = OP(INPUT, key=value, ...))",
                   spec->path && spec->path[0] ? spec->path : "spec");
    goto done;
  }
  if (outl < 0) {
    st = ns_err(&Ls[n - 1], NCO_ERR_INVALID, "no output: add `output = NODE` to [network]", NULL, NULL);
    goto done;
  }
  if ((st = resolve(Ls, n)) || (st = topo_order(Ls, n, order, &norder))) goto done;
  const size_t outn = Ls[outl].op ? (size_t)outl : (size_t)Ls[outl].dep[0]; /* the output node's line */
  if (!(stack = calloc(n, sizeof *stack))) {
    st = nco_error(NCO_ERR_NOMEM, "network spec: out of memory");
    goto done;
  }
  if ((st = check_used(Ls, n, outn, stack))) goto done;
  if ((st = nco_nn_graph_create(&m))) goto done;
  for (size_t i = 0; i < n && !st; i++)
    if (Ls[i].op && Ls[i].op->kind < 0) st = add_input(&Ls[i], m, data_ndim, data_shape);
  if (!st && m->nin == 0) st = ns_err(&Ls[0], NCO_ERR_INVALID, "no input: add e.g. `input = input(1, 28, 28)`", NULL, NULL);
  for (size_t k = 0; k < norder && !st; k++) st = add_line(&Ls[order[k]], m);
  if (st) goto done;
  const char *oname = Ls[outn].e->key;
  if (Ls[outn].op->kind < 0) {
    st = ns_err(&Ls[outl], NCO_ERR_INVALID, "the output \"%s\" is an input: add a node", oname, NULL);
    goto done;
  }
  if ((st = nco_nn_set_output(m, oname))) goto done;
  *out = m;
  m = NULL;
done:
  nco_nn_model_free(m);
  free(Ls);
  free(order);
  free(stack);
  return st;
}

/* ---- summary --------------------------------------------------------------- */

static void level_shape(const nco_nn_model *m, size_t lev, char *out, size_t len) {
  size_t s[3];
  int flat;
  if (lev < m->nin) {
    const nn_input *x = &m->inputs[lev];
    s[0] = x->c, s[1] = x->h, s[2] = x->w, flat = x->flat;
  } else {
    const nn_layer *x = &m->layers[lev - m->nin];
    s[0] = x->oc, s[1] = x->oh, s[2] = x->ow, flat = x->out_flat;
  }
  if (flat)
    snprintf(out, len, "[-1, %zu]", s[0]);
  else
    snprintf(out, len, "[-1, %zu, %zu, %zu]", s[0], s[1], s[2]);
}

static const char *level_name(const nco_nn_model *m, size_t lev) {
  return lev < m->nin ? m->inputs[lev].name : m->layers[lev - m->nin].name;
}

int nco_nn_summary(const nco_nn_model *m, FILE *fp) {
  static const char *kinds[] = {"input", "input(targets)", "input(noise)", "input(graph)"};
  char shp[64], ins[64];
  if (!m || !fp) return nco_error(NCO_ERR_INVALID, "nn summary: NULL argument");
  const char *rule = "==========================================================================\n";
  fprintf(fp, "%s%-18s %-12s %-14s %-20s %10s\n%s", rule, "Node", "Op", "Inputs", "Output shape", "Param #", rule);
  for (size_t v = 0; v < m->nin + m->nl; v++) {
    size_t np = 0;
    const char *op = v < m->nin ? kinds[m->inputs[v].kind] : m->layers[v - m->nin].op->name;
    ins[0] = 0;
    if (v >= m->nin) {
      const nn_layer *l = &m->layers[v - m->nin];
      if (l->kind == NCO_NN_ACT) op = nco_act_name(l->act.kind);
      size_t k = 0;
      for (size_t j = 0; j < l->nin && k < sizeof ins; j++) {
        int r = snprintf(ins + k, sizeof ins - k, "%s%s", j ? "," : "", level_name(m, l->in[j]));
        if (r < 0) break;
        k += (size_t)r;
      }
      np = l->nw + l->nb;
    }
    level_shape(m, v, shp, sizeof shp);
    fprintf(fp, "%-18s %-12s %-14s %-20s %10zu%s\n", level_name(m, v), op, ins, shp, np,
            v == nn_out_level(m) ? "  (output)" : "");
  }
  fprintf(fp, "%sTotal params: %zu\nTrainable params: %zu\nNon-trainable state: %zu\n%s", rule, m->dim, m->dim,
          m->sdim, rule);
  return ferror(fp) ? nco_error(NCO_ERR_IO, "nn summary: write failed") : NCO_OK;
}
