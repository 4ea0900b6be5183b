/* The layer map of params.npy (nco_nn_layer_map_json, params.json) against
 * PyTorch: tests/fixtures/nn/layermap_torch.json, written by
 * scripts/make_layermap_fixtures.py (torch 1.13), holds for four
 * torch.nn.Sequential networks (an MLP, LeNet-5, the CLI's LeNet with ELU
 * and dropout, and one with every other layer kind and option) torch's own
 * state_dict names, shapes, offsets and lengths in parameters() order, the
 * repr of every module, and the outputs after
 * vector_to_parameters(θ, model.parameters()) at one flat θ. Here the same
 * networks are built with ncopt; the map's names, shapes, offsets, modules
 * and module expression must equal torch's, and ncopt's forward pass at the
 * same flat θ must give torch's outputs — so params.npy loads into the
 * module that params.json names and computes the same function.
 *
 * θ and the inputs come from the script's integer hash (nco_test_gen(), as
 * tests/test_nn_torch.c). The JSON is parsed by a strict parser below
 * (RFC 8259 grammar, no extensions), so "it parses" means valid JSON.
 *
 * Output tolerance: as tests/test_nn_torch.c (float32 on both sides,
 * different summation orders, ≤ 2400-term sums through ≤ 14 layers),
 *     |ours − torch| ≤ 1e-5 · max(1e-3, ‖torch‖∞)   per entry;
 * a wrong layout (a transposed weight, swapped slices) changes outputs by
 * O(‖·‖∞). The measured maximum is printed.
 */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <stdlib.h>

#include "ncopt/nn.h"
#include "testlib.h"

/* ---- a strict, minimal JSON parser ---------------------------------- */

typedef enum jt { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jt;
typedef struct jv {
  jt t;
  double num;         /* J_NUM, J_BOOL */
  char *str;          /* J_STR */
  size_t n;           /* J_ARR, J_OBJ */
  struct jv *items;   /* [n] */
  char **keys;        /* J_OBJ: [n] */
} jv;

static void jv_free(jv *v) {
  if (!v) return;
  free(v->str);
  for (size_t i = 0; i < v->n; i++) {
    jv_free(&v->items[i]);
    if (v->keys) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  memset(v, 0, sizeof *v);
}

static const char *jws(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  return p;
}

static const char *jparse(const char *p, jv *v, int depth);

static const char *jparse_str(const char *p, char **out) {
  if (*p != '"') return NULL;
  p++;
  size_t cap = 16, n = 0;
  char *s = malloc(cap);
  if (!s) return NULL;
  while (*p != '"') {
    unsigned char c = (unsigned char)*p;
    if (c == 0 || c < 0x20) goto fail;
    if (n + 8 > cap) {
      char *ns = realloc(s, cap *= 2);
      if (!ns) goto fail;
      s = ns;
    }
    if (c == '\\') {
      p++;
      switch (*p) {
        case '"': case '\\': case '/': s[n++] = *p; break;
        case 'b': s[n++] = '\b'; break;
        case 'f': s[n++] = '\f'; break;
        case 'n': s[n++] = '\n'; break;
        case 'r': s[n++] = '\r'; break;
        case 't': s[n++] = '\t'; break;
        case 'u': {
          unsigned u = 0;
          for (int k = 1; k <= 4; k++) {
            if (!isxdigit((unsigned char)p[k])) goto fail;
            u = u * 16 + (unsigned)(isdigit((unsigned char)p[k]) ? p[k] - '0' : (tolower((unsigned char)p[k]) - 'a' + 10));
          }
          if (u >= 0x80) goto fail; /* the map only escapes control characters */
          s[n++] = (char)u;
          p += 4;
          break;
        }
        default: goto fail;
      }
      p++;
    } else {
      s[n++] = (char)c;
      p++;
    }
  }
  s[n] = '\0';
  *out = s;
  return p + 1;
fail:
  free(s);
  return NULL;
}

static const char *jparse_num(const char *p, double *out) {
  const char *q = p;
  if (*q == '-') q++;
  if (*q == '0') q++;
  else if (*q >= '1' && *q <= '9') while (isdigit((unsigned char)*q)) q++;
  else return NULL;
  if (*q == '.') {
    q++;
    if (!isdigit((unsigned char)*q)) return NULL;
    while (isdigit((unsigned char)*q)) q++;
  }
  if (*q == 'e' || *q == 'E') {
    q++;
    if (*q == '+' || *q == '-') q++;
    if (!isdigit((unsigned char)*q)) return NULL;
    while (isdigit((unsigned char)*q)) q++;
  }
  char *end;
  errno = 0;
  *out = strtod(p, &end);
  return end == q ? q : NULL;
}

static int jpush(jv *v, jv *item, char *key) {
  jv *ni = realloc(v->items, (v->n + 1) * sizeof *ni);
  if (!ni) return 0;
  v->items = ni;
  if (v->t == J_OBJ) {
    char **nk = realloc(v->keys, (v->n + 1) * sizeof *nk);
    if (!nk) return 0;
    v->keys = nk;
    v->keys[v->n] = key;
  }
  v->items[v->n++] = *item;
  return 1;
}

static const char *jparse(const char *p, jv *v, int depth) {
  memset(v, 0, sizeof *v);
  if (depth > 64) return NULL;
  p = jws(p);
  if (*p == '{' || *p == '[') {
    int obj = *p == '{';
    v->t = obj ? J_OBJ : J_ARR;
    p = jws(p + 1);
    if (*p == (obj ? '}' : ']')) return p + 1;
    for (;;) {
      char *key = NULL;
      jv item;
      if (obj) {
        if (!(p = jparse_str(jws(p), &key))) return NULL;
        p = jws(p);
        if (*p != ':') return free(key), NULL;
        p++;
      }
      if (!(p = jparse(p, &item, depth + 1))) return jv_free(&item), free(key), NULL; /* partial children */
      if (!jpush(v, &item, key)) return jv_free(&item), free(key), NULL;
      p = jws(p);
      if (*p == ',') {
        p++;
        continue;
      }
      if (*p == (obj ? '}' : ']')) return p + 1;
      return NULL;
    }
  }
  if (*p == '"') return v->t = J_STR, jparse_str(p, &v->str);
  if (!strncmp(p, "true", 4)) return v->t = J_BOOL, v->num = 1, p + 4;
  if (!strncmp(p, "false", 5)) return v->t = J_BOOL, v->num = 0, p + 5;
  if (!strncmp(p, "null", 4)) return v->t = J_NULL, p + 4;
  v->t = J_NUM;
  return jparse_num(p, &v->num);
}

/* Parses a whole document (nothing but white space after it). */
static int jparse_doc(const char *text, jv *v) {
  const char *p = jparse(text, v, 0);
  if (!p || *jws(p)) {
    jv_free(v);
    return 0;
  }
  return 1;
}

static const jv *jget(const jv *o, const char *key) {
  if (!o || o->t != J_OBJ) return NULL;
  for (size_t i = 0; i < o->n; i++)
    if (!strcmp(o->keys[i], key)) return &o->items[i];
  return NULL;
}
static const jv *jat(const jv *a, size_t i) { return a && a->t == J_ARR && i < a->n ? &a->items[i] : NULL; }
static const char *jstr_of(const jv *v) { return v && v->t == J_STR ? v->str : ""; }
static double jnum_of(const jv *v) { return v && v->t == J_NUM ? v->num : NAN; }
static size_t jlen(const jv *v) { return v && (v->t == J_ARR || v->t == J_OBJ) ? v->n : 0; }




/* ---- the networks of the fixture, built with ncopt ------------------- */

static int build(const char *name, nco_nn_model **out) {
  nco_nn_model *m = NULL;
  int st;
  *out = NULL;
  if (!strcmp(name, "mlp")) {
    size_t w[2] = {16, 12};
    nco_act a = nco_act_make(NCO_ACT_TANH);
    return nco_nn_mlp(20, w, 2, 5, &a, out);
  }
  if (!strcmp(name, "lenet")) return nco_nn_lenet5(1, 28, 28, 10, out);
  if (!strcmp(name, "lenet_cli")) {
    /* as src/run/build.c builds problem.type = lenet (no flatten layer) */
    size_t s[3] = {1, 28, 28};
    nco_act a = nco_act_make(NCO_ACT_ELU);
    a.slope = 0.5;
    if ((st = nco_nn_model_create(3, s, &m))) return st;
    if (!(st = nco_nn_add_conv2d(m, 6, 5, 5, 1, 2, 1)) && !(st = nco_nn_add_act(m, &a)) &&
        !(st = nco_nn_add_maxpool2d(m, 2, 0)) && !(st = nco_nn_add_conv2d(m, 16, 5, 5, 1, 0, 1)) &&
        !(st = nco_nn_add_act(m, &a)) && !(st = nco_nn_add_maxpool2d(m, 2, 0)) &&
        !(st = nco_nn_add_dense(m, 120, 1)) && !(st = nco_nn_add_act(m, &a)) &&
        !(st = nco_nn_add_dropout(m, 0.25)) && !(st = nco_nn_add_dense(m, 84, 1)) &&
        !(st = nco_nn_add_act(m, &a)) && !(st = nco_nn_add_dropout(m, 0.25)))
      st = nco_nn_add_dense(m, 10, 1);
  } else if (!strcmp(name, "misc")) {
    size_t s[3] = {2, 11, 11};
    nco_act sig = nco_act_make(NCO_ACT_SIGMOID), sp = nco_act_make(NCO_ACT_SOFTPLUS),
            lr = nco_act_make(NCO_ACT_LEAKY_RELU), id = nco_act_make(NCO_ACT_IDENTITY);
    lr.slope = 0.2;
    if ((st = nco_nn_model_create(3, s, &m))) return st;
    if (!(st = nco_nn_add_conv2d(m, 3, 3, 2, 1, 0, 0)) && !(st = nco_nn_add_act(m, &sig)) &&
        !(st = nco_nn_add_maxpool2d(m, 3, 1)) && !(st = nco_nn_add_conv2d(m, 4, 3, 3, 2, 1, 1)) &&
        !(st = nco_nn_add_act(m, &sp)) && !(st = nco_nn_add_avgpool2d(m, 2, 0)) &&
        !(st = nco_nn_add_flatten(m)) && !(st = nco_nn_add_dense(m, 5, 0)) && !(st = nco_nn_add_act(m, &lr)) &&
        !(st = nco_nn_add_act(m, &id)))
      st = nco_nn_add_dense(m, 3, 1);
  } else {
    return nco_error(NCO_ERR_INVALID, "test: unknown fixture model %s", name);
  }
  if (st) {
    nco_nn_model_free(m);
    return st;
  }
  *out = m;
  return NCO_OK;
}

/* A problem on n samples of shape in_shape (inputs from `seed`), labels 0. */
static int make_problem(const nco_nn_model *m, size_t n, uint64_t seed, nco_nn_loss loss, nco_problem **pb) {
  nco_array X = {0}, y = {0};
  /* X as (n, in_size): the network reads any (n, ...) with Π shape[1:] =
   * in_size, C order, so this is the (n, C, H, W) batch of torch too */
  size_t din = nco_nn_in_size(m), shape[2] = {n, din};
  int st = nco_array_alloc(&X, NCO_DTYPE_F32, 2, shape, "test inputs");
  if (!st) {
    nco_test_gen(seed, n * din, 1.0, X.data);
    size_t ys[2] = {n, nco_nn_out_size(m)};
    if (loss == NCO_NN_LOSS_CROSS_ENTROPY) {
      if (!(st = nco_array_alloc(&y, NCO_DTYPE_I32, 1, ys, "test labels"))) memset(y.data, 0, n * sizeof(int32_t));
    } else if (!(st = nco_array_alloc(&y, NCO_DTYPE_F32, 2, ys, "test targets"))) {
      nco_test_gen(seed + 1, n * ys[1], 1.0, y.data);
    }
  }
  nco_nn_opts o = nco_nn_defaults(loss);
  o.threads = 1;
  if (!st) st = nco_nn_problem_create(m, &X, &y, &o, pb);
  nco_array_free(&X);
  nco_array_free(&y);
  return st;
}

static int map_of(const nco_problem *pb, jv *doc) {
  char *text = NULL;
  int st = nco_nn_layer_map_json(pb, &text);
  if (st) return st;
  int ok = text && jparse_doc(text, doc);
  if (!ok) fprintf(stderr, "layer map is not valid JSON:\n%s\n", text ? text : "(null)");
  free(text);
  return ok ? NCO_OK : NCO_ERR_FORMAT;
}

/* Common to every map: format, file, dtype, total, offsets back to back,
 * lengths = Π shape, Σ lengths = total = params.npy's length. */
static void check_common(const jv *doc, size_t total) {
  CHECK(!strcmp(jstr_of(jget(doc, "file")), "params.npy"));
  CHECK(!strcmp(jstr_of(jget(doc, "dtype")), "float32"));
  CHECK(!strcmp(jstr_of(jget(doc, "format")), "ncopt params map 1"));
  CHECK(jnum_of(jget(doc, "total")) == (double)total);
  const jv *ps = jget(doc, "params");
  REQUIRE(ps && ps->t == J_ARR && ps->n >= 1);
  double off = 0;
  for (size_t i = 0; i < ps->n; i++) {
    const jv *p = jat(ps, i), *sh = jget(p, "shape");
    double prod = 1;
    for (size_t k = 0; k < jlen(sh); k++) prod *= jnum_of(jat(sh, k));
    CHECKF(jnum_of(jget(p, "offset")) == off, "param %zu offset %g, expected %g", i, jnum_of(jget(p, "offset")), off);
    CHECKF(jnum_of(jget(p, "length")) == prod, "param %zu length vs shape", i);
    off += prod;
  }
  CHECKF(off == (double)total, "lengths sum to %g, total %zu", off, total);
}

/* ---- tests ------------------------------------------------------------ */

static void test_against_torch(void) {
  char *text = nco_test_slurp(nco_fixture("nn/layermap_torch.json"), NULL);
  REQUIRE(text);
  jv fx;
  int ok = jparse_doc(text, &fx);
  free(text);
  REQUIRE(ok);
  const jv *models = jget(&fx, "models");
  CHECK(jlen(models) == 4);
  double worst = 0;
  for (size_t c = 0; c < jlen(models); c++) {
    const jv *mx = jat(models, c);
    const char *name = jstr_of(jget(mx, "name"));
    nco_nn_model *m = NULL;
    nco_problem *pb = NULL;
    float *theta = NULL, *out = NULL;
    jv doc = {0};
    size_t n = (size_t)jnum_of(jget(mx, "n")), dim;
    CHECK_OK(build(name, &m));
    if (!m) continue;
    dim = nco_nn_dim(m);
    CHECKF(jnum_of(jget(mx, "total")) == (double)dim, "%s: torch has %g parameters, ncopt %zu", name,
           jnum_of(jget(mx, "total")), dim);
    CHECK_OK(make_problem(m, n, (uint64_t)jnum_of(jget(mx, "x_seed")), NCO_NN_LOSS_CROSS_ENTROPY, &pb));
    if (pb && map_of(pb, &doc) == NCO_OK) {
      check_common(&doc, dim);
      CHECK(!jget(&doc, "aux"));
      CHECK(!jget(&doc, "module_note"));
      /* input shape */
      const jv *is = jget(&doc, "input_shape"), *tis = jget(mx, "input_shape");
      CHECKF(jlen(is) == jlen(tis), "%s: input_shape", name);
      for (size_t k = 0; k < jlen(is) && k < jlen(tis); k++) CHECK(jnum_of(jat(is, k)) == jnum_of(jat(tis, k)));
      /* modules: torch's reprs, and the Sequential expression */
      const jv *mods = jget(&doc, "modules"), *tmods = jget(mx, "modules");
      CHECKF(jlen(mods) == jlen(tmods), "%s: %zu modules, torch %zu", name, jlen(mods), jlen(tmods));
      char expr[4096] = "torch.nn.Sequential(";
      for (size_t k = 0; k < jlen(tmods); k++) {
        const char *want = jstr_of(jat(tmods, k));
        CHECKF(!strcmp(jstr_of(jat(mods, k)), want), "%s module %zu: \"%s\", torch \"%s\"", name, k,
               jstr_of(jat(mods, k)), want);
        size_t l = strlen(expr);
        snprintf(expr + l, sizeof expr - l, "%storch.nn.%s", k ? ", " : "", want);
      }
      size_t l = strlen(expr);
      snprintf(expr + l, sizeof expr - l, ")");
      CHECKF(!strcmp(jstr_of(jget(&doc, "module")), expr), "%s: module\n  %s\nexpected\n  %s", name,
             jstr_of(jget(&doc, "module")), expr);
      /* params: torch's names, shapes, offsets, lengths, in order */
      const jv *ps = jget(&doc, "params"), *tps = jget(mx, "params");
      CHECKF(jlen(ps) == jlen(tps), "%s: %zu params, torch %zu", name, jlen(ps), jlen(tps));
      CHECK(jlen(ps) == nco_nn_num_params(m));
      for (size_t i = 0; i < jlen(ps) && i < jlen(tps); i++) {
        const jv *p = jat(ps, i), *tp = jat(tps, i);
        CHECKF(!strcmp(jstr_of(jget(p, "name")), jstr_of(jget(tp, "name"))), "%s param %zu: \"%s\", torch \"%s\"",
               name, i, jstr_of(jget(p, "name")), jstr_of(jget(tp, "name")));
        const jv *sh = jget(p, "shape"), *tsh = jget(tp, "shape");
        CHECKF(jlen(sh) == jlen(tsh), "%s param %zu: rank", name, i);
        for (size_t k = 0; k < jlen(sh) && k < jlen(tsh); k++)
          CHECKF(jnum_of(jat(sh, k)) == jnum_of(jat(tsh, k)), "%s param %zu: shape[%zu]", name, i, k);
        CHECK(jnum_of(jget(p, "offset")) == jnum_of(jget(tp, "offset")));
        CHECK(jnum_of(jget(p, "length")) == jnum_of(jget(tp, "length")));
        nco_nn_param np;
        CHECK_OK(nco_nn_param_get(m, i, &np));
        CHECK(!strcmp(jstr_of(jget(p, "ncopt_name")), np.name));
        CHECK(jnum_of(jget(p, "offset")) == (double)np.offset);
      }
      /* the same function: ncopt's forward at torch's flat θ */
      theta = malloc(dim * sizeof *theta);
      out = malloc(n * nco_nn_out_size(m) * sizeof *out);
      const jv *tout = jget(mx, "out");
      if (theta && out && jlen(tout) == n * nco_nn_out_size(m)) {
        nco_test_gen((uint64_t)jnum_of(jget(mx, "theta_seed")), dim, jnum_of(jget(mx, "theta_bound")), theta);
        CHECK_OK(nco_nn_set_training(pb, 0));
        CHECK_OK(nco_nn_forward(pb, theta, NULL, n, out));
        double scale = 0, err = 0;
        for (size_t k = 0; k < jlen(tout); k++) scale = fmax(scale, fabs(jnum_of(jat(tout, k))));
        for (size_t k = 0; k < jlen(tout); k++) {
          double d = fabs((double)out[k] - jnum_of(jat(tout, k)));
          err = fmax(err, d);
          CHECKF(d <= 1e-5 * fmax(1e-3, scale), "%s output %zu: %.9g, torch %.9g", name, k, out[k],
                 jnum_of(jat(tout, k)));
        }
        worst = fmax(worst, err / fmax(1e-3, scale));
      } else {
        CHECKF(0, "%s: outputs: %zu in the fixture, %zu expected (or out of memory)", name, jlen(tout),
               n * nco_nn_out_size(m));
      }
    }
    jv_free(&doc);
    free(theta);
    free(out);
    nco_problem_free(pb);
    nco_nn_model_free(m);
  }
  printf("  outputs vs torch: max |diff| / max(1e-3, |torch|inf) = %.3g (allowed 1e-5)\n", worst);
  jv_free(&fx);
}

/* Reprs written without the fixture (Python's float repr: repr(0.1) is
 * '0.1', repr(1e-05) '1e-05', repr(1/3) '0.3333333333333333', repr(1.0)
 * '1.0'), an implicit flatten at the front, and a mixed activation. */
static void test_reprs_and_flatten(void) {
  size_t s[3] = {2, 3, 3};
  nco_nn_model *m = NULL;
  nco_act mixed = nco_act_make(NCO_ACT_TANH), elu = nco_act_make(NCO_ACT_ELU), lr = nco_act_make(NCO_ACT_LEAKY_RELU);
  mixed.mix = 0.5;
  REQUIRE_OK(nco_nn_model_create(3, s, &m));
  CHECK_OK(nco_nn_add_dense(m, 4, 1)); /* on (2, 3, 3): torch needs Flatten first */
  CHECK_OK(nco_nn_add_dropout(m, 0.1));
  CHECK_OK(nco_nn_add_act(m, &elu));
  CHECK_OK(nco_nn_add_dropout(m, 1e-5));
  CHECK_OK(nco_nn_add_act(m, &lr));
  CHECK_OK(nco_nn_add_dropout(m, 1.0 / 3.0));
  CHECK_OK(nco_nn_add_act(m, &mixed));
  CHECK_OK(nco_nn_add_dense(m, 2, 0));
  CHECK_OK(nco_nn_rename_last(m, "head"));
  nco_problem *pb = NULL;
  CHECK_OK(make_problem(m, 4, 99, NCO_NN_LOSS_LEAST_SQUARES, &pb));
  jv doc = {0};
  if (pb && map_of(pb, &doc) == NCO_OK) {
    check_common(&doc, nco_nn_dim(m));
    static const char *const want[] = {
        "Flatten(start_dim=1, end_dim=-1)", "Linear(in_features=18, out_features=4, bias=True)",
        "Dropout(p=0.1, inplace=False)",    "ELU(alpha=1.0)",
        "Dropout(p=1e-05, inplace=False)",  "LeakyReLU(negative_slope=0.01)",
        "Dropout(p=0.3333333333333333, inplace=False)", "MixedActivation(Tanh(), mix=0.5)",
        "Linear(in_features=4, out_features=2, bias=False)"};
    const jv *mods = jget(&doc, "modules");
    CHECK(jlen(mods) == sizeof want / sizeof *want);
    for (size_t k = 0; k < jlen(mods) && k < sizeof want / sizeof *want; k++)
      CHECKF(!strcmp(jstr_of(jat(mods, k)), want[k]), "module %zu: \"%s\", expected \"%s\"", k,
             jstr_of(jat(mods, k)), want[k]);
    CHECK(strstr(jstr_of(jget(&doc, "module")), ", MixedActivation(Tanh(), mix=0.5), torch.nn.Linear("));
    CHECK(strstr(jstr_of(jget(&doc, "module_note")), "MixedActivation"));
    const jv *ps = jget(&doc, "params");
    CHECK(jlen(ps) == 3);
    CHECK(!strcmp(jstr_of(jget(jat(ps, 0), "name")), "1.weight"));
    CHECK(!strcmp(jstr_of(jget(jat(ps, 0), "ncopt_name")), "fc1.weight"));
    CHECK(jnum_of(jat(jget(jat(ps, 0), "shape"), 0)) == 4 && jnum_of(jat(jget(jat(ps, 0), "shape"), 1)) == 18);
    CHECK(!strcmp(jstr_of(jget(jat(ps, 1), "name")), "1.bias"));
    CHECK(!strcmp(jstr_of(jget(jat(ps, 2), "name")), "8.weight"));
    CHECK(!strcmp(jstr_of(jget(jat(ps, 2), "ncopt_name")), "head.weight"));
  }
  jv_free(&doc);
  nco_problem_free(pb);
  nco_nn_model_free(m);
}

/* Wrappers: ℓ2 keeps the map; the invex lifting adds the aux note (p in
 * aux.npy, N = n·m entries); params and total stay the network's. */
static void test_wrappers(void) {
  size_t w[1] = {6};
  nco_act a = nco_act_make(NCO_ACT_TANH);
  nco_nn_model *m = NULL;
  REQUIRE_OK(nco_nn_mlp(5, w, 1, 3, &a, &m));
  size_t dim = nco_nn_dim(m), n = 7;
  for (int kind = 0; kind < 2; kind++) {
    nco_problem *net = NULL, *wr = NULL;
    CHECK_OK(make_problem(m, n, 5 + (uint64_t)kind, NCO_NN_LOSS_LEAST_SQUARES, &net));
    if (!net) continue;
    CHECK_OK(kind ? nco_invex_wrap(net, 0.1, 1, &wr) : nco_l2_wrap(net, 0.01, 1, &wr));
    if (!wr) continue;
    jv doc = {0};
    if (map_of(wr, &doc) == NCO_OK) {
      check_common(&doc, dim);
      CHECK(jlen(jget(&doc, "params")) == 4);
      CHECK(!strcmp(jstr_of(jget(jat(jget(&doc, "params"), 2), "name")), "2.weight"));
      const jv *aux = jget(&doc, "aux");
      if (kind) {
        CHECK(aux && aux->t == J_OBJ);
        CHECK(!strcmp(jstr_of(jget(aux, "file")), "aux.npy"));
        CHECK(!strcmp(jstr_of(jget(aux, "name")), "p"));
        CHECK(!strcmp(jstr_of(jget(aux, "dtype")), "float32"));
        CHECK(jnum_of(jat(jget(aux, "shape"), 0)) == (double)(n * 3));
        CHECK(jnum_of(jat(jget(aux, "shape"), 0)) == (double)(wr->dim - dim));
        CHECK(strstr(jstr_of(jget(aux, "note")), "invex"));
      } else {
        CHECK(!aux);
      }
    }
    jv_free(&doc);
    nco_problem_free(wr);
  }
  nco_nn_model_free(m);
}

/* A problem that is not a network: one entry "x" of shape [d] (and the
 * aux note under the invex lifting). */
static void test_non_network(void) {
  nco_array A = {0}, b = {0};
  nco_rng rng;
  nco_rng_seed(&rng, 3);
  nco_act sig = nco_act_make(NCO_ACT_SIGMOID);
  nco_problem *glm = NULL, *lifted = NULL;
  REQUIRE_OK(nco_glm_generate(12, 4, &sig, 0.0, 1, &rng, &A, &b));
  CHECK_OK(nco_glm_create(&A, &b, &sig, &glm));
  jv doc = {0};
  if (glm && map_of(glm, &doc) == NCO_OK) {
    check_common(&doc, 4);
    const jv *ps = jget(&doc, "params");
    CHECK(jlen(ps) == 1);
    CHECK(!strcmp(jstr_of(jget(jat(ps, 0), "name")), "x"));
    CHECK(jlen(jget(jat(ps, 0), "shape")) == 1 && jnum_of(jat(jget(jat(ps, 0), "shape"), 0)) == 4);
    CHECK(!jget(&doc, "module") && !jget(&doc, "aux"));
    CHECK(!strcmp(jstr_of(jget(&doc, "problem")), glm->label));
  }
  jv_free(&doc);
  if (glm) CHECK_OK(nco_invex_wrap(glm, 0.1, 1, &lifted));
  if (lifted && map_of(lifted, &doc) == NCO_OK) {
    check_common(&doc, 4);
    CHECK(jnum_of(jat(jget(jget(&doc, "aux"), "shape"), 0)) == 12);
  }
  jv_free(&doc);
  nco_problem_free(lifted);
  nco_array_free(&A);
  nco_array_free(&b);
}

/* Written to a file atomically; the file is the JSON of the string call. */
static void test_write_and_errors(void) {
  size_t w[1] = {3};
  nco_act a = nco_act_make(NCO_ACT_RELU);
  nco_nn_model *m = NULL;
  nco_problem *pb = NULL;
  REQUIRE_OK(nco_nn_mlp(2, w, 1, 2, &a, &m));
  CHECK_OK(make_problem(m, 3, 11, NCO_NN_LOSS_CROSS_ENTROPY, &pb));
  char *text = NULL, *file = NULL;
  const char *path = nco_test_tmp_path("params.json");
  if (pb) {
    CHECK_OK(nco_nn_layer_map_json(pb, &text));
    CHECK_OK(nco_nn_layer_map_write(pb, path));
    file = nco_test_slurp(path, NULL);
    CHECK(text && file && !strcmp(text, file));
  }
  free(text);
  free(file);
  text = (char *)"untouched";
  CHECK_ERR(nco_nn_layer_map_json(NULL, &text), NCO_ERR_INVALID, "layer map");
  CHECK(text == NULL);
  CHECK_ERR(nco_nn_layer_map_json(pb, NULL), NCO_ERR_INVALID, "layer map");
  CHECK_ERR(nco_nn_layer_map_write(pb, NULL), NCO_ERR_INVALID, "layer map");
  CHECK(nco_nn_layer_map_write(pb, nco_test_tmp_path("no/such/dir/params.json")) < 0);
  /* the parser rejects what is not JSON (so it can reject a broken map) */
  jv v;
  CHECK(!jparse_doc("{\"a\": [1, 2,]}", &v));
  CHECK(!jparse_doc("{\"a\": 01}", &v));
  CHECK(!jparse_doc("{\"a\": \"x\"} x", &v));
  CHECK(jparse_doc("{\"a\": [1.5e-3, true, null, \"\\u0001\"]}", &v));
  jv_free(&v);
  nco_problem_free(pb);
  nco_nn_model_free(m);
}

int main(void) {
  RUN(test_against_torch);
  RUN(test_reprs_and_flatten);
  RUN(test_wrappers);
  RUN(test_non_network);
  RUN(test_write_and_errors);
  return nco_test_summary();
}
