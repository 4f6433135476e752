/* Declarations shared by the files of ion.upload.core that speak Lua: the
 * transfers and sessions (libcurl), the error and option helpers, and each
 * binding's open_lib. The parts below them that need no Lua have headers
 * of their own (parse.h, clock.h, journal_index.h, ...). */
#ifndef ION_INTERNAL_H
#define ION_INTERNAL_H

#include <limits.h>
#include <stddef.h>

#include "clock.h"
#include "compat.h"
#include "hidden.h"
#include "md5.h"
#include "parse.h"
#include "rate.h"
#include "xfer.h"

#define ION_VERSION "0.1.0"

#define ION_SESSION_MT "ion.upload.core.session"
#define ION_XFER_MT "ion.upload.core.transfer"

/* options.c: reading the option tables of transfers and sessions */
ION_HIDDEN int ion_opt_number(lua_State *L, int t, const char *k, double *out);
ION_HIDDEN const char *ion_opt_string(lua_State *L, int t, const char *k, size_t *len);
ION_HIDDEN int ion_opt_boolean(lua_State *L, int t, const char *k, int dflt);
ION_HIDDEN void ion_check_keys(lua_State *L, int t, const char *what, const char *const *allowed);

/* errors.c */
ION_HIDDEN int ion_push_error(lua_State *L, const char *code, const char *msg, int curl_code,
                              long status);
ION_HIDDEN int ion_fail(lua_State *L, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
ION_HIDDEN int ion_fail_errno(lua_State *L, const char *code, int e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
ION_HIDDEN const char *ion_curl_error_code(CURLcode rc);
ION_HIDDEN void ion_xfer_set_failure(ion_xfer *x, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* a core object's metatable, registered once under `name` */
ION_HIDDEN void ion_new_class(lua_State *L, const char *name, const luaL_Reg *methods,
                              lua_CFunction close, lua_CFunction tostring, int closable);

/* response.c: response headers to Lua (parsers: parse.h), the buffered body */
ION_HIDDEN size_t ion_header_cb(char *p, size_t size, size_t n, void *ud);
ION_HIDDEN void ion_push_headers(lua_State *L, const ion_xfer *x);
ION_HIDDEN int ion_find_header(const ion_xfer *x, const char *name, char *out, size_t outsz);
ION_HIDDEN size_t ion_body_cb(char *p, size_t size, size_t n, void *ud);

/* request.c: what every transfer shares, and the in-memory request */
ION_HIDDEN ion_xfer *ion_xfer_new(lua_State *L, ion_kind kind);
ION_HIDDEN int ion_xfer_configure(lua_State *L, ion_xfer *x, int req);
ION_HIDDEN void ion_xfer_release(lua_State *L, ion_xfer *x);
ION_HIDDEN void ion_xfer_finish(lua_State *L, ion_xfer *x);
ION_HIDDEN int ion_xfer_push_outcome(lua_State *L, ion_xfer *x);
ION_HIDDEN void ion_xfer_cleanup(ion_xfer *x);

/* put.c */
ION_HIDDEN int ion_put_configure(lua_State *L, ion_xfer *x, int req);
ION_HIDDEN void ion_put_finish(ion_xfer *x);
ION_HIDDEN void ion_put_free(ion_xfer *x);
ION_HIDDEN int ion_put_ready(ion_xfer *x);

/* download.c */
ION_HIDDEN int ion_download_configure(lua_State *L, ion_xfer *x, int req);
ION_HIDDEN void ion_download_finish(ion_xfer *x);
ION_HIDDEN void ion_download_free(ion_xfer *x);

/* session.c: the multi handle and the loop that drives its transfers */
ION_HIDDEN ion_session *ion_session_push(lua_State *L);
ION_HIDDEN int ion_session_attach(lua_State *L, ion_session *s, ion_xfer *x, int xi);
ION_HIDDEN void ion_session_drive(lua_State *L, ion_session *s, ion_xfer *target, double timeout);
ION_HIDDEN int ion_session_collect(lua_State *L, ion_xfer *x);
ION_HIDDEN void ion_session_cancel(lua_State *L, ion_session *s, ion_xfer *x, const char *why);
ION_HIDDEN void ion_session_detach(ion_xfer *x);
ION_HIDDEN int ion_session_ready(const ion_session *s);
ION_HIDDEN void ion_session_close(lua_State *L, ion_session *s);

/* lua_session.c: core.session and its methods, core.request/put/download */
ION_HIDDEN void ion_session_open_lib(lua_State *L);
ION_HIDDEN int ion_session_new(lua_State *L);
ION_HIDDEN int ion_oneshot(lua_State *L, ion_kind kind);

/* The bindings (lua_*.c): each sets its functions in the module table on
 * top of the stack (core.c builds it). */
ION_HIDDEN void ion_sys_open_lib(lua_State *L);     /* stat, realpath, fsync, lock, ... */
ION_HIDDEN void ion_signals_open_lib(lua_State *L); /* catch_interrupt, hangup, sleep, poll */
ION_HIDDEN void ion_watch_open_lib(lua_State *L);   /* watcher */
ION_HIDDEN void ion_fs_open_lib(lua_State *L);      /* list_dir, fileno, read_some */
ION_HIDDEN void ion_spawn_open_lib(lua_State *L);   /* run_capture */
ION_HIDDEN void ion_hash_open_lib(lua_State *L);    /* hash_file (lua_hash_file.c) */
ION_HIDDEN void ion_hashset_open_lib(lua_State *L); /* hashset */
ION_HIDDEN void ion_journal_open_lib(lua_State *L); /* journal_index, fsync_dir, same_file */
ION_HIDDEN void ion_notify_open_lib(lua_State *L);  /* sd_notify, sd_watchdog_usec */
ION_HIDDEN void ion_http_open_lib(lua_State *L);    /* http_listen (the status server) */
ION_HIDDEN void ion_shard_open_lib(lua_State *L);   /* shard_bucket, fnv1a64 */

/* Sets a libcurl option on x->easy while configuring a transfer; a refusal is
 * returned to Lua as nil, err (bad_input). Needs `L` and `x` in scope. */
#define SETOPT(opt, val)                                                                           \
    do {                                                                                           \
        CURLcode rc_ = curl_easy_setopt(x->easy, opt, val);                                        \
        if (rc_ != CURLE_OK)                                                                       \
            return ion_fail(L, "bad_input", "%s: libcurl refused %s: %s", x->what, #opt,           \
                            curl_easy_strerror(rc_));                                              \
    } while (0)

#endif
