/* preload.h — which libmemkit.so `memkit run` preloads, and the
 * LD_PRELOAD value that carries it. */
#ifndef MKT_PRELOAD_H
#define MKT_PRELOAD_H

#include <stddef.h>

/* The absolute path of libmemkit.so: $MEMKIT_LIB when set, else the one
 * beside this executable (build tree: <build>/tools/memkit and
 * <build>/shim/libmemkit.so; installed: <prefix>/<bindir>/memkit and
 * <prefix>/<libdir>/libmemkit.so, or <prefix>/lib/libmemkit.so).
 * 0, or -1 with a one-line reason in why. */
int mkt_find_library(char *out, size_t len, char *why, size_t why_len);

/* "lib" followed by the old LD_PRELOAD (NULL or empty: none), so memkit is
 * loaded first and whatever the caller preloaded still is. A list that
 * already names lib is returned unchanged. malloc'd; NULL on ENOMEM. */
char *mkt_preload_value(const char *lib, const char *old);

#endif
