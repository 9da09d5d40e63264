/* units.h — numbers as a person reads them: 1.5 MiB, 12,345, 1.53 s. */
#ifndef MKT_UNITS_H
#define MKT_UNITS_H

#include <stddef.h>
#include <stdint.h>

#define MKT_UNIT_BUF 32   /* enough for every function here */

/* Binary units: "512 B", "1.5 KiB", "12.0 MiB", "3.25 GiB". */
const char *mkt_bytes(char *buf, size_t len, uint64_t bytes);
/* Thousands separated: "1,234,567". */
const char *mkt_count(char *buf, size_t len, uint64_t n);
/* "250 us", "4.2 ms", "1.53 s", "2m05s", "1h02m". */
const char *mkt_duration(char *buf, size_t len, double seconds);

#endif
