#include "config.h"
#include "cmd.h"
int cmd_check(struct cli *cli, int argc, char **argv) { (void)cli; (void)argc; (void)argv; return JX_SOFTWARE; }
