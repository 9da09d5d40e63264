/* run.h — `memkit run [--report PATH] [--env NAME=VALUE]... -- COMMAND [ARG]...` */
#ifndef MKT_RUN_H
#define MKT_RUN_H

/* argv[0] is "run". Returns the exit status memkit should leave with: the
 * command's own, 128+N when signal N killed it, 127 when it was not found,
 * 126 when it could not be executed, 125 when memkit itself failed. */
int mkt_run_main(int argc, char **argv);

#endif
