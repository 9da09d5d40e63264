/* sigbus_guard.h — file mappings that read as zeros past a shrunk file's
 * end instead of killing the program with SIGBUS.
 *
 * A SIGBUS handler, installed once, looks the faulting address up in a
 * table of guarded ranges without taking any lock. Inside one, it maps a
 * private page of zeros over the faulting page and counts it; the access
 * is retried and succeeds. Outside, the signal goes on to whatever
 * handled SIGBUS before (the program's handler, or the default action,
 * which kills as the kernel would). A program that installs its own SIGBUS
 * handler afterwards replaces this one, and with it the guard, unless its
 * handler hands on to the one it replaced. */
#ifndef MK_SIGBUS_GUARD_H
#define MK_SIGBUS_GUARD_H

#include "pool_common.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* At most this many ranges at once: the kernel's default limit on a
 * process's mappings (vm.max_map_count, 65530) is below it. */
#define MK_SIGBUS_GUARD_MAX 65536

/* Installs the handler, once per process. 0, or -1 with errno. */
MK_POOL_HIDDEN int  mk_sigbus_guard_install(void);

/* Guards [start, start + len), mapped with prot (PROT_READ, possibly
 * PROT_WRITE: the page of zeros gets the same). Each page replaced adds 1
 * to *pages and to *total. Both counters must outlive the range's removal.
 * A slot number, or -1 with ENOMEM when MK_SIGBUS_GUARD_MAX ranges are
 * guarded already (or the table's memory could not be mapped). Lock-free;
 * errno is kept on success. */
MK_POOL_HIDDEN int  mk_sigbus_guard_add(const void *start, size_t len, int prot,
                                        _Atomic uint64_t *pages, _Atomic uint64_t *total);

/* Stops guarding a slot's range; call before the range is unmapped. */
MK_POOL_HIDDEN void mk_sigbus_guard_remove(int slot);

#endif
