/* ncopt/status.h — status codes and the last-error message.
 *
 * Every library call that can fail returns an int status: 0 is success,
 * negative is an error, positive is a named normal stop (a run that ended
 * because it converged, hit its iteration cap, ...). The library never
 * exits or aborts; on error it also records a one-line message naming the
 * cause (file, array or key, value, what is wrong), readable with
 * nco_last_error() in the same thread until the next error.
 */
#ifndef NCOPT_STATUS_H
#define NCOPT_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, value, description) — the one list that the enum and
 * nco_status_str() are generated from, so they cannot drift apart. */
#define NCO_STATUS_LIST(X)                                                   \
  X(NCO_OK, 0, "ok")                                                         \
  X(NCO_CONVERGED, 1, "converged (tolerance reached)")                       \
  X(NCO_MAX_ITER, 2, "iteration limit reached")                              \
  X(NCO_TARGET_REACHED, 3, "target loss reached")                            \
  X(NCO_CANCELLED, 4, "cancelled")                                           \
  X(NCO_TIME_LIMIT, 5, "time limit reached")                                 \
  X(NCO_ERR_INVALID, -1, "invalid argument")                                 \
  X(NCO_ERR_NOMEM, -2, "out of memory")                                      \
  X(NCO_ERR_IO, -3, "input/output error")                                    \
  X(NCO_ERR_FORMAT, -4, "malformed file")                                    \
  X(NCO_ERR_SHAPE, -5, "shape mismatch")                                     \
  X(NCO_ERR_NONFINITE, -6, "non-finite value")                               \
  X(NCO_ERR_UNSUPPORTED, -7, "operation not supported by this object")       \
  X(NCO_ERR_RANGE, -8, "value out of range")                                 \
  X(NCO_ERR_OVERFLOW, -9, "size overflow")                                   \
  X(NCO_ERR_NUMERIC, -10, "numerical breakdown")                             \
  X(NCO_ERR_CHECK, -11, "derivative check failed")                           \
  X(NCO_ERR_STATE, -12, "object in the wrong state for this call")

typedef enum nco_status {
#define NCO_X_ENUM(name, value, desc) name = value,
  NCO_STATUS_LIST(NCO_X_ENUM)
#undef NCO_X_ENUM
} nco_status;

/* Short description of a status code; "unknown status" for other values. */
const char *nco_status_str(int status);

/* The symbolic name ("NCO_ERR_SHAPE"); "NCO_UNKNOWN" for other values. */
const char *nco_status_name(int status);

/* The message of the last error recorded in this thread ("" if none). */
const char *nco_last_error(void);

/* Clears the last-error message of this thread. */
void nco_clear_error(void);

/* Records a printf-style message as this thread's last error and returns
 * `status`, so that a failing path reads `return nco_error(NCO_ERR_SHAPE,
 * "%s: features has %zu rows, targets %zu", path, n, m);`. Messages longer
 * than 1023 bytes are truncated. */
int nco_error(int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prepends "prefix: " to the current last-error message (to add context
 * such as a file name on the way up) and returns `status`. */
int nco_error_context(int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif
