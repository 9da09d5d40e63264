/* help_env.h — `memkit --help-env`: the MEMKIT_* options from the option
 * table (shim/options.def), as aligned text or as the README's markdown. */
#ifndef MKT_HELP_ENV_H
#define MKT_HELP_ENV_H

#include <stdio.h>

void mkt_help_env_text(FILE *out);
/* The README section between <!-- options:begin --> and <!-- options:end -->
 * (tools/update-readme-options.sh puts it there; a test checks it). */
void mkt_help_env_markdown(FILE *out);

#endif
