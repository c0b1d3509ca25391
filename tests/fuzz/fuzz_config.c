/* fuzz_config: sshd_config parsing (src/config.c). The input is written to
 * a temp file and loaded with config_load_file; then each of its lines is
 * given to config_apply_option as a -o value would be. A loaded config is
 * also copied, compared, matched against a connection and dumped. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_util.h"

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	devnull = fopen("/dev/null", "w");
	if (!devnull)
		abort();
	(void)fuzz_tmp_path();
	return 0;
}

static void count_block(const struct config *applied, void *arg)
{
	(void)applied;
	(*(int *)arg)++;
}

/* What the daemon does with a config that loaded. */
static void use_config(const struct config *c)
{
	static const char *const groups[] = { "wheel", "users", NULL };
	struct config m;
	int blocks = 0;
	config_copy(&m, c);
	if (!config_equal(&m, c))
		abort();   /* a copy must compare equal */
	struct match_conn mc = { .user = "fuzz", .groups = groups, .addr = "192.0.2.7",
				 .host = "client.example", .laddr = "192.0.2.1", .lport = 22 };
	(void)config_match(&m, &mc);
	config_free(&m);
	(void)config_each_match_block(c, count_block, &blocks);
	config_dump(c, devnull);
}

/* Each line of the input as an -o option. */
static void apply_lines(struct config *c, const uint8_t *data, size_t size)
{
	char err[512];
	char *text = fuzz_strdup(data, size), *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		err[0] = 0;
		(void)config_apply_option(c, line, err, sizeof(err));
		if (strnlen(err, sizeof(err)) >= sizeof(err))
			abort();
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	char err[512];
	const char *path = fuzz_tmp_write(data, size);

	config_defaults(&c);
	if (config_load_file(&c, path, err, sizeof(err)) == 0)
		use_config(&c);
	config_free(&c);

	config_defaults(&c);
	apply_lines(&c, data, size);
	use_config(&c);
	config_free(&c);
	return 0;
}
