/* pool_common.h — small definitions the pool's files share. The pool stands
 * on its own (its tests link it alone), so it has its own, not the shim's. */
#ifndef MK_POOL_COMMON_H
#define MK_POOL_COMMON_H

/* Internal to libmemkit across files, never exported. */
#define MK_POOL_HIDDEN __attribute__((visibility("hidden")))

#endif
