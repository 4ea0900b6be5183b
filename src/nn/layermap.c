/* The layer map of params.npy (params.json beside it): which slice of the
 * flat parameter vector is which tensor, in PyTorch's terms, so that
 *   model = <"module">;  torch.nn.utils.vector_to_parameters(
 *       torch.from_numpy(np.load("params.npy")), model.parameters())
 * or np.load("params.npy")[offset : offset + length].reshape(shape) needs
 * nothing from ncopt's headers.
 *
 * Names. A network's layers map one to one onto the modules of a
 * torch.nn.Sequential (activation, pooling, flatten and dropout layers are
 * modules too), plus one nn.Flatten() before a dense layer whose input is
 * still (C, H, W) (ncopt's dense flattens implicitly, as flatten +
 * nn.Linear; nn.Linear does not). A parameter's name is that Sequential's
 * state_dict key, "<module index>.weight" / ".bias"; ncopt's own name
 * ("conv1.weight", nco_nn_param_find) is kept as "ncopt_name". "modules"
 * lists torch's repr of every module (what print(model) shows), "module" a
 * Python expression building the Sequential. Shapes are torch's: Linear
 * (out, in), Conv2d (out, in, kh, kw), biases (out), each slice C order —
 * ncopt's θ layout (nn.h), so offsets are the running sums of the lengths
 * in parameters() order. Checked against torch itself in
 * tests/test_layermap.c (fixture from scripts/make_layermap_fixtures.py).
 *
 * Other problems: one entry {"name": "x", "shape": [dim]}. The invex
 * lifting's p is not in params.npy but in aux.npy: an "aux" note entry.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/nn.h"
#include "ncopt/run.h"
#include "ncopt/status.h"
#include "nn/internal.h"

typedef struct jbuf {
  char *p;
  size_t n, cap;
  int oom;
} jbuf;

static void jput(jbuf *b, const char *s, size_t len) {
  if (b->oom) return;
  if (len + 1 > b->cap - b->n || !b->p) {
    size_t cap = b->cap ? b->cap : 1024;
    while (len + 1 > cap - b->n) {
      if (cap > ((size_t)-1) / 2) {
        b->oom = 1;
        return;
      }
      cap *= 2;
    }
    char *np = realloc(b->p, cap);
    if (!np) {
      b->oom = 1;
      return;
    }
    b->p = np, b->cap = cap;
  }
  memcpy(b->p + b->n, s, len);
  b->n += len;
  b->p[b->n] = '\0';
}

static void jputf(jbuf *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (k < 0 || (size_t)k >= sizeof tmp) {
    b->oom = 1; /* every caller's text is short; never happens */
    return;
  }
  jput(b, tmp, (size_t)k);
}

/* A JSON string literal (control characters escaped; UTF-8 passed on). */
static void jstr(jbuf *b, const char *s) {
  jput(b, "\"", 1);
  for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
    if (*q == '"' || *q == '\\') {
      char e[2] = {'\\', (char)*q};
      jput(b, e, 2);
    } else if (*q < 0x20) {
      jputf(b, "\\u%04x", (unsigned)*q);
    } else {
      jput(b, (const char *)q, 1);
    }
  }
  jput(b, "\"", 1);
}

/* Python's repr of a finite double (shortest round-trip digits; fixed
 * notation with at least one decimal for exponents −4 ≤ e < 16, else
 * 1.5e-07), as torch's module reprs print floats. */
void nn_py_float(double v, char *out, size_t len) {
  char e[40];
  int prec = 1;
  for (; prec <= 17; prec++) {
    snprintf(e, sizeof e, "%.*e", prec - 1, v);
    if (strtod(e, NULL) == v) break;
  }
  if (prec > 17) prec = 17;
  const char *ep = strchr(e, 'e');
  int ex = ep ? atoi(ep + 1) : 0;
  if (ex >= -4 && ex < 16) {
    int dec = prec - 1 - ex;
    snprintf(out, len, "%.*f", dec > 0 ? dec : 0, v);
    if (!strchr(out, '.')) {
      size_t k = strlen(out);
      if (k + 2 < len) out[k] = '.', out[k + 1] = '0', out[k + 2] = '\0';
    }
  } else {
    snprintf(out, len, "%s", e);
  }
}

/* The repr of node l's module into buf (the op's vtable); *mixed = 1 for
 * an activation with mix > 0 (no torch module: MixedActivation(φ, mix=γ)). */
static int layer_repr(const nn_layer *l, char *buf, size_t len, int *mixed) {
  return l->op->repr(l, buf, len, mixed);
}

#define FLATTEN_REPR "Flatten(start_dim=1, end_dim=-1)"

/* Module index in the equivalent Sequential of every layer (idx[nl]), the
 * implicit flattens counted. */
static void module_indices(const nco_nn_model *m, size_t *idx) {
  size_t t = 0;
  for (size_t i = 0; i < m->nl; i++) {
    const nn_layer *l = &m->layers[i];
    if (l->kind == NCO_NN_DENSE && !l->in_flat) t++; /* nn.Flatten() first */
    idx[i] = t++;
  }
}

/* 1 if every node reads the previous level and the last one is the output
 * (one input): a torch.nn.Sequential. */
static int is_chain(const nco_nn_model *m) {
  if (m->nin != 1 || nn_out_level(m) != m->nl) return 0;
  for (size_t i = 0; i < m->nl; i++)
    if (m->layers[i].nin != 1 || m->layers[i].in[0] != i) return 0;
  return 1;
}

static void shape_list(jbuf *b, size_t ndim, const size_t *shape) {
  jput(b, "[", 1);
  for (size_t k = 0; k < ndim; k++) jputf(b, k ? ", %zu" : "%zu", shape[k]);
  jput(b, "]", 1);
}

static int network_part(jbuf *b, const nco_nn_model *m) {
  int st = NCO_OK, mixed = 0;
  size_t *idx = NULL;
  char rep[256];
  if (m->nl && !(idx = malloc(m->nl * sizeof *idx)))
    return nco_error(NCO_ERR_NOMEM, "layer map: out of memory (%zu layers)", m->nl);
  module_indices(m, idx);
  jputf(b, "  \"input_shape\": ");
  shape_list(b, m->in_ndim, m->in_shape);
  /* "module": a Python expression; "modules": the reprs, one per index */
  jbuf mod = {0};
  jput(&mod, "torch.nn.Sequential(", 20);
  jputf(b, ",\n  \"modules\": [");
  size_t t = 0;
  for (size_t i = 0; i < m->nl && !st; i++) {
    for (; t <= idx[i]; t++) {
      int flat = t < idx[i]; /* the implicit nn.Flatten() before a dense layer */
      if (!flat && (st = layer_repr(&m->layers[i], rep, sizeof rep, &mixed))) break;
      const char *r = flat ? FLATTEN_REPR : rep;
      jputf(&mod, "%s%s%s", t ? ", " : "", strncmp(r, "MixedActivation(", 16) ? "torch.nn." : "", r);
      jputf(b, "%s\n    ", t ? "," : "");
      jstr(b, r);
    }
  }
  jput(&mod, ")", 1);
  jputf(b, "\n  ],\n  \"module\": ");
  if (mod.oom) b->oom = 1;
  else if (!is_chain(m)) jputf(b, "null, \"module_note\": \"the graph is not a chain: no torch.nn.Sequential; the modules are listed in execution order (which is the parameter order)\"");
  else jstr(b, mod.p);
  free(mod.p);
  if (!st && mixed)
    jputf(b, ",\n  \"module_note\": \"MixedActivation(phi, mix=g) is the activation (1 - g)*phi(z) + g*z (Oymak & "
             "Soltanolkotabi 4.3), which torch.nn does not have: define it as a module without parameters (the "
             "names and offsets below hold)\"");
  jputf(b, ",\n  \"params\": [");
  size_t np = nco_nn_num_params(m);
  for (size_t i = 0; i < np && !st; i++) {
    nco_nn_param p;
    if ((st = nco_nn_param_get(m, i, &p))) break;
    const char *suffix = strrchr(p.name, '.');
    jputf(b, "%s\n    {\"name\": \"%zu%s\", \"ncopt_name\": ", i ? "," : "", idx[p.layer], suffix ? suffix : "");
    jstr(b, p.name);
    jputf(b, ", \"shape\": ");
    shape_list(b, p.ndim, p.shape);
    jputf(b, ", \"offset\": %zu, \"length\": %zu}", p.offset, p.length);
  }
  jputf(b, "\n  ]");
  free(idx);
  return st;
}

int nco_nn_layer_map_json(const nco_problem *pb, char **json_out) {
  int st = NCO_OK;
  if (!json_out) return nco_error(NCO_ERR_INVALID, "layer map: output pointer is NULL");
  *json_out = NULL;
  if (!pb) return nco_error(NCO_ERR_INVALID, "layer map: problem is NULL");
  const nco_problem *root = pb;
  while (root->base) root = root->base;
  const nco_nn_model *m = nco_nn_problem_model(pb);
  if (m && nco_nn_dim(m) != root->dim)
    return nco_error(NCO_ERR_STATE, "layer map: the network has %zu parameters but problem \"%s\" has %zu",
                     nco_nn_dim(m), root->label, root->dim);
  jbuf b = {0};
  jputf(&b, "{\n  \"format\": \"ncopt params map 1\",\n  \"file\": \"params.npy\",\n  \"dtype\": \"float32\",\n");
  jputf(&b, "  \"total\": %zu,\n  \"problem\": ", root->dim);
  jstr(&b, root->label);
  jputf(&b, ",\n  \"layout\": ");
  if (m) {
    jstr(&b, "one flat vector, the tensors below back to back, each C order, in the order of "
             "model.parameters() for the torch.nn.Sequential \"module\": "
             "torch.nn.utils.vector_to_parameters(torch.from_numpy(np.load('params.npy')), model.parameters()) "
             "loads it; names are that module's state_dict keys");
    jputf(&b, ",\n");
    st = network_part(&b, m);
  } else {
    jstr(&b, "one flat vector x");
    jputf(&b, ",\n  \"params\": [\n    {\"name\": \"x\", \"shape\": [%zu], \"offset\": 0, \"length\": %zu}\n  ]",
          root->dim, root->dim);
  }
  if (!st && pb->dim > root->dim) {
    size_t na = pb->dim - root->dim;
    jputf(&b, ",\n  \"aux\": {\"file\": \"aux.npy\", \"name\": \"p\", \"dtype\": \"float32\", \"shape\": [%zu], "
              "\"note\": ",
          na);
    jstr(&b, "the invex lifting's p (Crane & Roosta eq. 2: f(x, p) = 1/2 |g(x) + lambda p|^2), one entry per "
             "residual (sample s, output i at s*m + i, extra residuals last); not part of params.npy");
    jputf(&b, "}");
  }
  jputf(&b, "\n}\n");
  if (st) {
    free(b.p);
    return st;
  }
  if (b.oom) {
    free(b.p);
    return nco_error(NCO_ERR_NOMEM, "layer map: out of memory writing the JSON of \"%s\"", root->label);
  }
  *json_out = b.p;
  return NCO_OK;
}

int nco_nn_layer_map_write(const nco_problem *pb, const char *path) {
  char *text = NULL;
  if (!path) return nco_error(NCO_ERR_INVALID, "layer map: path is NULL");
  int st = nco_nn_layer_map_json(pb, &text);
  if (st) return st;
  st = nco_write_file_atomic(path, text, strlen(text));
  free(text);
  if (st) return nco_error_context(st, "layer map %s", path);
  return NCO_OK;
}
