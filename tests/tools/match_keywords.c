/* Prints every keyword the configuration allows inside a Match block, one
 * a line, straight from config.c's keyword table: test_match_options.py
 * fails for any of them that has no login test. */
#include <stdio.h>
#include "config.h"

int main(void)
{
	const char *name;
	for (int i = 0; (name = config_match_keyword(i)) != NULL; i++)
		puts(name);
	return 0;
}
