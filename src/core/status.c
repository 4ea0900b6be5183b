/* Status strings and the thread-local last-error message. */
#include "ncopt/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define NCO_MSG_MAX 1024
static _Thread_local char last_msg[NCO_MSG_MAX];

const char *nco_status_str(int status) {
  switch (status) {
#define NCO_X_STR(name, value, desc) \
  case value:                        \
    return desc;
    NCO_STATUS_LIST(NCO_X_STR)
#undef NCO_X_STR
  }
  return "unknown status";
}

const char *nco_status_name(int status) {
  switch (status) {
#define NCO_X_NAME(name, value, desc) \
  case value:                         \
    return #name;
    NCO_STATUS_LIST(NCO_X_NAME)
#undef NCO_X_NAME
  }
  return "NCO_UNKNOWN";
}

const char *nco_last_error(void) { return last_msg; }

void nco_clear_error(void) { last_msg[0] = '\0'; }

int nco_error(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_msg, sizeof last_msg, fmt, ap);
  va_end(ap);
  return status;
}

int nco_error_context(int status, const char *fmt, ...) {
  char prefix[NCO_MSG_MAX], old[NCO_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  memcpy(old, last_msg, sizeof old);
  size_t k = strlen(prefix);
  memcpy(last_msg, prefix, k + 1);
  if (k + 2 < sizeof last_msg) {
    memcpy(last_msg + k, ": ", 3);
    size_t room = sizeof last_msg - k - 3, lo = strlen(old);
    if (lo > room) lo = room;
    memcpy(last_msg + k + 2, old, lo);
    last_msg[k + 2 + lo] = '\0';
  }
  return status;
}
