/* The spec reader's API (ncopt/spec.h) on its own: parsing, continuation
 * lines, every located error, --set, put/find/unset/drop, clone, where and
 * locate, and write → parse as the identity. The CLI tests reach these
 * through specs; this test reaches the branches they do not (the
 * hardening issue's coverage target). Expected texts are written here, not
 * taken from ncopt. */
#include <stdlib.h>

#include "ncopt/spec.h"
#include "testlib.h"

static nco_spec *parse(const char *text) {
  nco_spec *s = NULL;
  if (nco_spec_parse_string(text, "t.ini", "/tmp", &s)) return NULL;
  return s;
}

static const char *val(const nco_spec *s, const char *sec, const char *key) {
  const nco_spec_entry *e = nco_spec_find(s, sec, key);
  return e ? e->value : "(none)";
}

static void test_parse_and_continuation(void) {
  nco_spec *s = parse("; a comment\n# another\n[run]\niterations = 5 ; inline\n[data]\nfeatures = /a/very/long/\n"
                      "    path/to.npy\n\n[run]\nseed = 2\r\n");
  CHECK(s != NULL);
  if (!s) return;
  CHECK(!strcmp(val(s, "run", "iterations"), "5"));
  CHECK(!strcmp(val(s, "data", "features"), "/a/very/long/path/to.npy")); /* joined without a separator */
  CHECK(!strcmp(val(s, "run", "seed"), "2"));                              /* CRLF */
  char where[256];
  CHECK(!strcmp(nco_spec_where(nco_spec_find(s, "run", "seed"), where, sizeof where), "t.ini:10"));
  CHECK(!strcmp(nco_spec_locate(s, "run", "epochs", where, sizeof where), "t.ini:3")); /* the first [run] header */
  CHECK(!strcmp(nco_spec_locate(s, "lanczos", "tol", where, sizeof where), "t.ini:10")); /* the last line */
  nco_spec_free(s);
}

static void test_located_errors(void) {
  nco_spec *s = NULL;
  CHECK_ERR(nco_spec_parse_string("[run]\niterations = 5\n  seed = 4\n", "t.ini", "/", &s), NCO_ERR_FORMAT,
            "t.ini:3: run.iterations: indented line 'seed = 4'");
  CHECK_ERR(nco_spec_parse_string("[run]\nseed = 1\nseed = 2\n", "t.ini", "/", &s), NCO_ERR_FORMAT,
            "t.ini:3: run.seed: duplicate key (first set at line 2)");
  CHECK_ERR(nco_spec_parse_string("seed = 1\n", "t.ini", "/", &s), NCO_ERR_FORMAT, "t.ini:1: seed: key outside any [section]");
  CHECK_ERR(nco_spec_parse_string("[run]\nseed 4\n", "t.ini", "/", &s), NCO_ERR_FORMAT, "t.ini:2: run: cannot parse 'seed 4'");
  char longl[400];
  snprintf(longl, sizeof longl, "[run]\nseed = %0250d\n", 7);
  CHECK_ERR(nco_spec_parse_string(longl, "t.ini", "/", &s), NCO_ERR_FORMAT, "t.ini:2: run: line longer than 198 bytes");
  CHECK_ERR(nco_spec_parse_string("[run]\nseed = a\x01z\n", "t.ini", "/", &s), NCO_ERR_INVALID, "the value holds a control character");
  CHECK(s == NULL);
  CHECK_ERR(nco_spec_load("/nonexistent/spec.ini", &s), NCO_ERR_IO, "/nonexistent/spec.ini:1: spec: cannot open");
}

static void test_set(void) {
  nco_spec *s = parse("[optimizer]\nlr = 0.1\n");
  CHECK(s != NULL);
  if (!s) return;
  CHECK_OK(nco_spec_set(s, "optimizer.lr = 0.5 "));
  CHECK(!strcmp(val(s, "optimizer", "lr"), "0.5")); /* trimmed, replaced */
  CHECK_OK(nco_spec_set(s, "run.iterations=3"));
  CHECK(!strcmp(val(s, "run", "iterations"), "3"));
  CHECK_ERR(nco_spec_set(s, "lr=1"), NCO_ERR_INVALID, "expected --set section.key=value (got 'lr=1')");
  CHECK_ERR(nco_spec_set(s, "optimizer.lr"), NCO_ERR_INVALID, "expected --set section.key=value");
  CHECK_ERR(nco_spec_set(s, ".lr=1"), NCO_ERR_INVALID, "expected --set section.key=value");
  CHECK_ERR(nco_spec_set(s, "optimizer.=1"), NCO_ERR_INVALID, "expected --set section.key=value");
  char big[1400];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  memcpy(big, "run.init=", 9);
  CHECK_ERR(nco_spec_set(s, big), NCO_ERR_INVALID, "too long");
  char longsec[300], longkey[300];
  memset(longsec, 's', 200), strcpy(longsec + 200, ".k=1");
  CHECK_ERR(nco_spec_set(s, longsec), NCO_ERR_INVALID, "too long");
  memcpy(longkey, "run.", 4), memset(longkey + 4, 'k', 200), strcpy(longkey + 204, "=1");
  CHECK_ERR(nco_spec_set(s, longkey), NCO_ERR_INVALID, "too long");
  CHECK_ERR(nco_spec_set(s, "run.init=a ;b"), NCO_ERR_INVALID, "--set:");
  CHECK_ERR(nco_spec_set(s, "run.init=;b"), NCO_ERR_INVALID, "' ;'");
  nco_spec_free(s);
}

static void test_edit_clone_write(void) {
  nco_spec *s = NULL, *c = NULL, *r = NULL;
  CHECK_OK(nco_spec_new(&s));
  CHECK_OK(nco_spec_put(s, "run", "iterations", "10", "f.ini", 1));
  CHECK_OK(nco_spec_put(s, "optimizer", "lr", "0.01", "f.ini", 2));
  CHECK_OK(nco_spec_put(s, "run", "seed", "3", "f.ini", 3));
  CHECK_OK(nco_spec_put(s, "sweep", "optimizer.lr", "0.1, 0.2", "f.ini", 4));
  CHECK_OK(nco_spec_clone(s, &c));
  nco_spec_unset(c, "run", "seed");
  CHECK(nco_spec_find(c, "run", "seed") == NULL && nco_spec_find(s, "run", "seed") != NULL);
  nco_spec_unset(c, "run", "absent"); /* no-op */
  nco_spec_drop_section(c, "sweep");
  CHECK(nco_spec_find(c, "sweep", "optimizer.lr") == NULL);
  /* write groups by section in order of first appearance, and reads back */
  char *text = NULL;
  size_t len = 0;
  FILE *fp = open_memstream(&text, &len);
  CHECK_OK(nco_spec_write(s, fp));
  fclose(fp);
  CHECK(!strcmp(text, "[run]\niterations = 10\nseed = 3\n\n[optimizer]\nlr = 0.01\n\n[sweep]\noptimizer.lr = 0.1, 0.2\n"));
  CHECK_OK(nco_spec_parse_string(text, "w.ini", "/", &r));
  if (r) {
    CHECK(r->n == s->n);
    for (size_t i = 0; i < s->n; i++) CHECK(!strcmp(val(r, s->e[i].section, s->e[i].key), s->e[i].value));
  }
  free(text);
  nco_spec_free(s), nco_spec_free(c), nco_spec_free(r);
  CHECK(nco_edit_distance("lr", "lr") == 0 && nco_edit_distance("betas", "beta1") == 1 && nco_edit_distance("", "abc") == 3);
}

/* A spec file larger than the reader's first 64 KiB buffer (comments)
 * reads whole; one of 1 MiB is refused. */
static void test_load_sizes(void) {
  const char *path = nco_test_tmp_path("big.ini");
  FILE *fp = fopen(path, "w");
  REQUIRE(fp != NULL);
  for (int i = 0; i < 2000; i++) fprintf(fp, "; comment line %d of a long spec, padded to about fifty bytes\n", i);
  fprintf(fp, "[run]\niterations = 7\n");
  fclose(fp);
  nco_spec *s = NULL;
  CHECK_OK(nco_spec_load(path, &s));
  if (s) CHECK(!strcmp(val(s, "run", "iterations"), "7"));
  nco_spec_free(s);
  fp = fopen(path, "w");
  REQUIRE(fp != NULL);
  for (int i = 0; i < 24000; i++) fprintf(fp, "; comment line %d of a far too long spec, about fifty\n", i);
  fclose(fp);
  s = NULL;
  CHECK_ERR(nco_spec_load(path, &s), NCO_ERR_FORMAT, "a spec is at most 1048575");
  CHECK(s == NULL);
}

static void test_caps(void) {
  nco_spec *s = NULL;
  CHECK_OK(nco_spec_new(&s));
  char key[32];
  int st = NCO_OK;
  for (int i = 0; i < NCO_SPEC_MAX_ENTRIES && !st; i++) {
    snprintf(key, sizeof key, "k%d", i);
    st = nco_spec_put(s, "probes", key, "true", "f.ini", i + 1);
  }
  CHECK(st == NCO_OK);
  CHECK_ERR(nco_spec_put(s, "probes", "one_more", "true", "f.ini", 9999), NCO_ERR_RANGE, "f.ini:9999: probes.one_more: more than 2048 keys");
  CHECK_OK(nco_spec_put(s, "probes", "k0", "false", "f.ini", 1)); /* replacing is not adding */
  nco_spec_free(s);
}

int main(void) {
  RUN(test_parse_and_continuation);
  RUN(test_located_errors);
  RUN(test_set);
  RUN(test_edit_clone_write);
  RUN(test_load_sizes);
  RUN(test_caps);
  return nco_test_summary();
}
