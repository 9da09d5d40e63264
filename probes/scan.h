/* scan.h — number scanning for the /proc readers: by hand, so it never
 * allocates, takes no locale and cannot run past a NUL. */
#ifndef MK_SCAN_H
#define MK_SCAN_H

#include <stdint.h>

/* Skips blanks, then reads decimal digits into *out and advances *sp past
 * them. 0, or -1 (nothing moved) when there is no digit or it overflows. */
int mk_scan_u64(const char **sp, uint64_t *out);

/* Skips blanks, then reads "123", "12.34" or ".5" (no sign, no exponent)
 * into *out and advances *sp. 0, or -1 (nothing moved) when there is no
 * digit. Digits past the 18th significant one are ignored. */
int mk_scan_decimal(const char **sp, double *out);

#endif
