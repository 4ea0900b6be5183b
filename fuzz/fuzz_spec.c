/* fuzz/fuzz_spec.c — libFuzzer harness for experiment specs: INI text
 * (src/run/spec.c, libinih) resolved into a config (src/run/config.c).
 *
 * Each input is the text of a spec file (cut at its first NUL byte; spec
 * files with NULs are refused by nco_spec_load anyway). It is parsed with
 * nco_spec_parse_string and resolved with nco_config_from_spec (flags 0);
 * if that fails, once more with NCO_CONFIG_LENIENT_TYPES (what --set on a
 * spec does), and if that fails too, with NCO_CONFIG_LENIENT_TYPES |
 * NCO_CONFIG_NO_LENGTH (what eval, probe and certify use). Relative paths resolve against "/" so that the outcome does
 * not depend on the working directory.
 *
 * Round-trip property (config.h: nco_config_write "writes the fully
 * resolved spec ... as INI text that nco_config_from_spec reads back to
 * the same config"): when a spec resolves, its written text W1 must parse
 * and resolve (flags 0; NCO_CONFIG_NO_LENGTH if the input needed it) to a
 * config whose written text W2 is byte-identical to W1. A violation traps (the fuzzer reports a crash) after printing both
 * texts and the error. Failing calls must leave *out NULL and set an error
 * message. Specs and memory streams are freed on every path.
 */
#include "fuzz_common.h"

#include "ncopt/config.h"
#include "ncopt/spec.h"
#include "ncopt/status.h"

#define SPEC_DIR "/"

/* The config written as INI text into a malloc'd NUL-terminated buffer. */
static char *write_config(const nco_config *cfg, size_t *len) {
  char *buf = NULL;
  size_t n = 0;
  FILE *fp = open_memstream(&buf, &n);
  FUZZ_CHECK(fp != NULL);
  int st = nco_config_write(cfg, fp);
  FUZZ_CHECK(fclose(fp) == 0);
  FUZZ_CHECK(st == NCO_OK);
  *len = n;
  return buf;
}

static void report(const char *what, const char *w1, const char *w2) {
  fprintf(stderr, "fuzz_spec: round trip failed: %s\n", what);
  fprintf(stderr, "last error: %s\n", nco_last_error());
  fprintf(stderr, "---- W1 (written from the input's config)\n%s", w1 ? w1 : "(none)\n");
  fprintf(stderr, "---- W2 (written from W1's config)\n%s", w2 ? w2 : "(none)\n");
}

static void round_trip(const nco_config *cfg1, unsigned flags) {
  size_t n1 = 0, n2 = 0;
  char *w1 = write_config(cfg1, &n1);
  nco_spec *s2 = NULL;
  nco_clear_error();
  int st = nco_spec_parse_string(w1, "resolved.ini", SPEC_DIR, &s2);
  if (st) {
    report("the written spec does not parse", w1, NULL);
    FUZZ_CHECK(st == NCO_OK);
  }
  static nco_config cfg2; /* large: keep it off the stack */
  st = nco_config_from_spec_flags(s2, &cfg2, flags);
  nco_spec_free(s2);
  if (st) {
    report("the written spec does not resolve", w1, NULL);
    FUZZ_CHECK(st == NCO_OK);
  }
  char *w2 = write_config(&cfg2, &n2);
  if (n1 != n2 || memcmp(w1, w2, n1) != 0) {
    report("the written specs differ", w1, w2);
    FUZZ_CHECK(n1 == n2 && memcmp(w1, w2, n1) == 0);
  }
  free(w1);
  free(w2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t n = 0;
  while (n < size && data[n]) n++;
  char *text = malloc(n + 1);
  if (!text) return 0;
  memcpy(text, data, n);
  text[n] = '\0';

  nco_spec *spec = NULL;
  nco_clear_error();
  int st = nco_spec_parse_string(text, "fuzz.ini", SPEC_DIR, &spec);
  free(text);
  if (st) {
    FUZZ_CHECK(spec == NULL);
    FUZZ_CHECK(nco_last_error()[0] != '\0');
    return 0;
  }
  FUZZ_CHECK(spec != NULL);

  static nco_config cfg;
  unsigned back = 0; /* flags for reading W1 back */
  nco_clear_error();
  st = nco_config_from_spec(spec, &cfg);
  if (st) {
    FUZZ_CHECK(nco_last_error()[0] != '\0');
    nco_clear_error();
    st = nco_config_from_spec_flags(spec, &cfg, NCO_CONFIG_LENIENT_TYPES);
    if (st) {
      FUZZ_CHECK(nco_last_error()[0] != '\0');
      /* What eval, probe and certify accept: no run length needed. */
      nco_clear_error();
      back = NCO_CONFIG_NO_LENGTH;
      st = nco_config_from_spec_flags(spec, &cfg, NCO_CONFIG_LENIENT_TYPES | NCO_CONFIG_NO_LENGTH);
      if (st) FUZZ_CHECK(nco_last_error()[0] != '\0');
    }
  }
  nco_spec_free(spec);
  if (st == NCO_OK) round_trip(&cfg, back);
  return 0;
}
