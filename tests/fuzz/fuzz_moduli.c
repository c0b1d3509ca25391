/* fuzz_moduli: the moduli(5) reader (crypto/dhgroup.c). The input is the
 * file; a group is chosen from it for a few requests (the first bytes, when
 * there are enough, give one more min/n/max), and every line is also given
 * to dhgroup_parse_line alone. A chosen group must be sane. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dhgroup.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	(void)fuzz_tmp_path();
	return 0;
}

static void check_group(const struct dh_group *g, uint32_t min, uint32_t max)
{
	if (g->bits < 2048 || g->bits > 8192 || g->bits < min || g->bits > max ||
	    g->p_len == 0 || g->p_len > DH_GROUP_MAX_BYTES || !(g->p[g->p_len - 1] & 1) ||
	    g->g < 2)
		abort();
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t req[][3] = {
		{ 2048, 2048, 8192 }, { 2048, 8192, 8192 }, { 1024, 3072, 4096 },
	};
	struct dh_group g;
	struct dhgroup_scan scan;
	const char *path = fuzz_tmp_write(data, size);

	for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
		if (dhgroup_choose(path, req[i][0], req[i][1], req[i][2], &g, &scan) == 0)
			check_group(&g, req[i][0], req[i][2]);
	if (size >= 12) {
		uint32_t a = be32(data) % 10000, b = be32(data + 4) % 10000, c = be32(data + 8) % 10000;
		if (dhgroup_choose(path, a, b, c, &g, &scan) == 0)
			check_group(&g, a, c);
	}

	/* line by line, as NUL-terminated copies */
	char *copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = 0;
	for (char *line = copy, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (dhgroup_parse_line(line, &g) == 1)
			check_group(&g, 0, UINT32_MAX);
	}
	free(copy);
	return 0;
}
