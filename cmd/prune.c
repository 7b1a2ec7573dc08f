/* jobify prune: ended jobs, their history and logs out of the store. */
#include "config.h"

#include "cmd.h"

int
cmd_prune(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cmd_usage_error(cli, "prune", "not yet");
}
