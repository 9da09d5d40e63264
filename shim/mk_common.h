/* mk_common.h — small definitions every shim file may use. */
#ifndef MK_COMMON_H
#define MK_COMMON_H

/* Data shared between memkit's own files: reached directly, not through the
 * GOT, on the malloc path. */
#define MK_HIDDEN __attribute__((visibility("hidden")))

#endif
