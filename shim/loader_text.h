/* loader_text.h — where the dynamic loader's code is, so that memkit can
 * tell a free the loader makes for glibc from one the program makes.
 *
 * glibc frees a thread's dynamic TLS (the loader's _dl_deallocate_tls)
 * while it holds its thread-stack cache lock: at pthread_join of a thread
 * on a stack of the program's, or when the stack cache is trimmed.
 * Starting memkit's monitor thread from such a free would make
 * pthread_create wait for that very lock, for ever; so the start waits for
 * another free (monitor.c). */
#ifndef MK_LOADER_TEXT_H
#define MK_LOADER_TEXT_H

#include <stdint.h>

/* Finds the range (dl_iterate_phdr: at start, not inside an allocator
 * call). Until then, and in a static program, nothing is the loader's. */
void mk_loader_text_find(void);
/* Whether pc lies in the loader's executable code. */
int mk_loader_text_has(uintptr_t pc);

#endif
