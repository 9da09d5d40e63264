/* parse_arena.h — where memkit-report's parsed reports live. */
#ifndef MKT_PARSE_ARENA_H
#define MKT_PARSE_ARENA_H

/* From now on jansson takes its memory from chunks that grow from 1 MiB
 * to 32 MiB, faulted in whole, and never gives it back before the process
 * exits (huge pages were tried: slower here). For a command that reads a report or two, prints and ends: on a
 * report of 100,000 call sites (37 MB, about 3 million JSON values) the
 * parse spends much of its time in malloc and in page faults. Call it
 * before the first jansson call; never in a long-running process. */
void mkt_parse_arena_use(void);

#endif
