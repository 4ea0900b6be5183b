/* src/run/config_int.h — the key table and what the config files share
 * (private; hidden from libncopt.so's exports).
 *
 *   config_keys.c    the key table (the [optimizer] rows generated from
 *                    nco_optim_param_table), sections
 *   config_parse.c   parsing a value into its field, range checks, messages
 *   config.c         the resolution of a spec, the error report
 *   config_check.c   combinations: data sources, problems, optimizer relations
 *   config_probes.c  probe names, help, requirements, [probes] parsing
 *   config_write.c   the resolved spec
 *   config_doc.c     `ncopt list`, docs/SPEC.md
 *   problems.c       the problem registry (run/problems.h) */
#ifndef NCO_RUN_CONFIG_INT_H
#define NCO_RUN_CONFIG_INT_H

#include <stdint.h>
#include <stdio.h>

#include "ncopt/config.h"
#include "ncopt/optim.h"
#include "ncopt/spec.h"

#ifndef NCO_HIDDEN
#define NCO_HIDDEN __attribute__((visibility("hidden")))
#endif

/* T_PAIR: two doubles at off (torch's `betas = 0.9, 0.999`); T_NOOP: a
 * torch argument without effect here, `enums` lists the accepted values;
 * T_ALIAS: another name of `alias_of` (or of its component off);
 * T_OPTIM_PARAMS: in the written table only, where the rows of
 * nco_optim_param_table() go. */
typedef enum { T_DOUBLE, T_SIZE, T_U64, T_BOOL, T_STR, T_PATH, T_ENUM, T_PROBE, T_OPTIM, T_SCHED, T_ACT, T_EVERY, T_PAIR,
               T_NOOP, T_ALIAS, T_OPTIM_PARAMS } ktype;

/* which settings object a key writes into (IN_HP: nco_optim_params, whose
 * ranges are the optimizer table's: nco_optim_param_check) */
typedef enum { IN_CFG, IN_HP, IN_SCHED } kbase;

typedef struct key {
  const char *section, *name;
  ktype type;
  kbase base;
  size_t off;
  const char *def;        /* default as text (NULL: the method's own default) */
  double lo, hi;          /* numeric range, inclusive */
  const char *enums;      /* T_ENUM: space-separated names, value = position; T_SIZE: "auto" (= 0) allowed */
  const char *applies;    /* space-separated types it applies to, NULL = all */
  const char *help;
  const char *sources;    /* [data] keys: the data sources it applies to, NULL = all */
  unsigned open;          /* numeric range: LO_OPEN (lo excluded), HI_OPEN (hi excluded) */
  const char *alias_of;   /* T_ALIAS rows: the canonical key (same section); off = component (0 all, 1, 2) */
} key;

#define LO_OPEN NCO_OPTIM_LO_OPEN
#define HI_OPEN NCO_OPTIM_HI_OPEN

#define NETS "mlp lenet network resnet vgg unet"
#define BUILDERS "mlp lenet resnet vgg unet" /* the networks whose layers the [problem] keys choose */
#define DEEP "resnet vgg unet"                 /* Chen, Yang & Zhou's models (src/nn/builders.c) */
#define NN_SOURCES "npy idx csv fashion-mnist mnist"
#define DATA_SOURCES "synthetic npy idx csv fashion-mnist mnist"

/* the table, built once at load time (config_keys.c) */
NCO_HIDDEN extern const key *const cfg_keys;
NCO_HIDDEN size_t cfg_nkeys_fn(void);
NCO_HIDDEN extern size_t cfg_nkeys_total; /* rows wanted; > NCO_CONFIG_MAX_KEYS: tests/test_config.c fails */
#define keys cfg_keys
#define NKEYS cfg_nkeys_fn()
NCO_HIDDEN extern const char *const sections[];
NCO_HIDDEN extern const size_t cfg_nsections;
#define NSECTIONS cfg_nsections
/* problem.type's choices "linear_ls glm ..." (from the registry) */
NCO_HIDDEN const char *cfg_problem_types(void);
NCO_HIDDEN int cfg_key_index(const char *section, const char *name);

/* config_parse.c */
NCO_HIDDEN int cfg_word_in(const char *word, const char *list);
NCO_HIDDEN int cfg_enum_index(const char *word, const char *list);
NCO_HIDDEN const char *cfg_enum_name(const char *list, int idx, char *buf, size_t len);
NCO_HIDDEN int cfg_parse_double(const char *s, double *out);
NCO_HIDDEN int cfg_parse_u64(const char *s, uint64_t *out);
NCO_HIDDEN int cfg_parse_bool(const char *s, int *out);
NCO_HIDDEN int cfg_kerr(const nco_spec *spec, const nco_spec_entry *e, const char *section, const char *name, int st,
                        const char *fmt, const char *a, const char *b);
NCO_HIDDEN void *cfg_field(nco_config *cfg, const key *k);
NCO_HIDDEN int cfg_applies(const nco_config *cfg, const key *k);
NCO_HIDDEN int cfg_set_value(const nco_spec *spec, nco_config *cfg, const key *k, const nco_spec_entry *e, const char *text);
NCO_HIDDEN int cfg_check_choice(const nco_spec *spec, const nco_spec_entry *e, const char *section, const char *name,
                                const char *v, const char *list);

/* config_check.c */
NCO_HIDDEN const char *cfg_optim_names(char *buf, size_t len);
NCO_HIDDEN int cfg_relocate(const nco_spec *spec, int st);
NCO_HIDDEN int cfg_is_type_key(const key *k);
NCO_HIDDEN int cfg_absolute_path(const nco_spec *spec, const key *k, const char *dir, char *path);
NCO_HIDDEN int cfg_check_combinations(const nco_spec *spec, nco_config *cfg);
NCO_HIDDEN int cfg_check_all(const nco_spec *spec, nco_config *cfg);

/* config.c */
NCO_HIDDEN nco_schedule cfg_sched_defaults(nco_schedule_kind kind, double c);

/* config_write.c */
NCO_HIDDEN void cfg_write_value(const nco_config *cfg, const key *k, FILE *fp);
NCO_HIDDEN int cfg_value_text(const nco_config *cfg, const key *k, char *buf, size_t len);

/* config_probes.c (verbatim from config.c, for the probe registry) */
NCO_HIDDEN int cfg_probe_requirements(const nco_spec *spec, const nco_config *cfg);
struct errs;
NCO_HIDDEN void cfg_probe_parse(const nco_spec *spec, nco_config *cfg, struct errs *el);
NCO_HIDDEN int cfg_note(struct errs *el, int st);

/* config_groups.c: [group.NAME] sections */
NCO_HIDDEN void cfg_groups_parse(nco_spec *spec, nco_config *cfg, struct errs *el);
NCO_HIDDEN int cfg_groups_write(const nco_config *cfg, FILE *fp);

#endif
