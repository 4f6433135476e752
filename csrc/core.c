/* Module entry: ion.upload.core. Initialises libcurl once per process (the
 * only global state) and assembles the module table. */
#include "internal.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int core_request(lua_State *L)
{
    return ion_oneshot(L, ION_KIND_REQUEST);
}

static int core_put(lua_State *L)
{
    return ion_oneshot(L, ION_KIND_PUT);
}

static int core_download(lua_State *L)
{
    return ion_oneshot(L, ION_KIND_DOWNLOAD);
}

/* "libcurl/7.88.1 OpenSSL/3.0.19 zlib/1.2.13". Not curl_version(): it also
 * initialises OpenLDAP's SASL, whose allocations are lost when Lua unloads
 * the module at exit (valgrind then reports them as definitely lost). */
static void push_curl_version(lua_State *L)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    lua_pushfstring(L, "libcurl/%s", v->version);
    if (v->ssl_version)
        lua_pushfstring(L, " %s", v->ssl_version);
    else
        lua_pushliteral(L, "");
    if (v->libz_version)
        lua_pushfstring(L, " zlib/%s", v->libz_version);
    else
        lua_pushliteral(L, "");
    lua_concat(L, 3);
}

__attribute__((visibility("default"))) int luaopen_ion_upload_core(lua_State *L);

int luaopen_ion_upload_core(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"request", core_request},    {"put", core_put}, {"download", core_download},
        {"session", ion_session_new}, {NULL, NULL},
    };
    if (pthread_once(&curl_once, curl_init_once) != 0 || curl_init_rc != CURLE_OK)
        return luaL_error(L, "ion.upload.core: curl_global_init failed");
    ion_session_open_lib(L);
    lua_newtable(L);
    ion_setfuncs(L, funcs);
    ion_sys_open_lib(L);
    ion_signals_open_lib(L);
    ion_watch_open_lib(L);
    ion_fs_open_lib(L);
    ion_spawn_open_lib(L);
    ion_hash_open_lib(L);
    ion_journal_open_lib(L);
    ion_hashset_open_lib(L);
    ion_notify_open_lib(L);
    ion_http_open_lib(L);
    ion_shard_open_lib(L);
    lua_pushliteral(L, ION_VERSION);
    lua_setfield(L, -2, "version");
    push_curl_version(L);
    lua_setfield(L, -2, "curl_version");
    return 1;
}
