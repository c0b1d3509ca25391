/* fuzz_auth: user-key handling in publickey authentication:
 * authorized_keys parsing through authkeys_find (src/authfile.c) on a temp
 * file, and key_from_blob / key_verify / key_from_public_line
 * (src/hostkey.c) on fuzzed bytes.
 *
 * Input: [mode][rest].
 *   mode%4 == 0: rest is an authorized_keys file; searched for each of the
 *                fixed keys below (the seeds use them, so lines can match);
 *   mode%4 == 1: rest is a public key blob (parse, re-encode, fingerprint);
 *   mode%4 == 2: [u16 len][key blob][signature blob]: verify the signature
 *                with the parsed key (and with each fixed key) over fixed
 *                data, using the algorithm named inside the signature;
 *   mode%4 == 3: rest is a "type base64 comment" public key line. */
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authfile.h"
#include "buf.h"
#include "fuzz_util.h"
#include "hostkey.h"

static const char *const fixed_lines[] = {
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID0OiozyaAxE8xwhvLIuWaJH9WaaaoZVLWYAUUYqn1KI",
	"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBAVsRXyrOzjYtAFj3A9nsBff1aQyzoNB1MpK8SaJpPEOgsy8mlQ87lZwUQtjAUnwtputnI/05MxSLk2WwVmxlsw=",
	"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC/r/Gnaht6T7EdKwr9g/Y3kIqVTfw0MF2cAPXwKwnFcKOlfYI2ldNbaRk98RNUhyJ/gbiQ8t9rwjjfsSISJgZtPfrGCXmPf2wjdhopeMqKY1a3+ogQBILy0eR6ovXKPwUBL2VeIjSv+noEm+EsslTGcGWyv2ASNG0LD0julhVx7a+zVb5yCN5CsWll6wxXk+EQUCBkZ9hQrJVAjWuZFtY8q8e+aHbIr/hNMeByEDu6JHCa1jaK25w3NTyJ7cyGA2D+mhzsHzYnKCJBE6TH2Zp08QGqu8EGF357PmAha3zbi5CPAi+BITxgKMZSXBaI5a+voewbmqwLpTxzvY7TH6l5",
};
#define N_FIXED (sizeof(fixed_lines) / sizeof(fixed_lines[0]))
static struct sshkey *fixed[N_FIXED];
static struct passwd me;
static const uint8_t signed_data[32] = "wombat fuzz: data being signed";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	for (size_t i = 0; i < N_FIXED; i++)
		if (key_from_public_line(fixed_lines[i], &fixed[i]) < 0)
			abort();
	/* authkeys_find only needs uid/gid/dir; the file is ours */
	me.pw_name = (char *)"fuzz";
	me.pw_uid = getuid();
	me.pw_gid = getgid();
	me.pw_dir = (char *)"/";
	(void)fuzz_tmp_path();
	return 0;
}

static void authorized_keys(const uint8_t *data, size_t size)
{
	const char *path = fuzz_tmp_write(data, size);
	for (size_t i = 0; i < N_FIXED; i++) {
		struct authkey_opts opts;
		char why[256];
		if (authkeys_find(path, &me, 0, fixed[i], &opts, why, sizeof(why)) == 1)
			authkey_opts_free(&opts);
		if (strnlen(why, sizeof(why)) >= sizeof(why))
			abort();
	}
}

/* A parsed key must survive blob and line round trips unchanged. */
static void key_round_trips(const struct sshkey *k)
{
	buf_t b;
	struct sshkey *k2;
	char fp[128], line[8192];
	if (buf_init(&b, 0, 1 << 16) < 0)
		abort();
	if (key_public_blob(k, &b) < 0 ||
	    key_from_blob(buf_data(&b), buf_used(&b), &k2) < 0)
		abort();
	if (!key_equal_public(k, k2))
		abort();
	key_free(k2);
	buf_free(&b);
	key_fingerprint(k, fp, sizeof(fp));
	if (key_public_line(k, "c", line, sizeof(line)) == 0) {
		if (key_from_public_line(line, &k2) < 0)
			abort();
		if (!key_equal_public(k, k2))
			abort();
		key_free(k2);
	}
}

static void key_blob(const uint8_t *data, size_t size)
{
	struct sshkey *k;
	uint8_t *copy = fuzz_dup(data, size);
	if (key_from_blob(copy, size, &k) == 0) {
		key_round_trips(k);
		key_free(k);
	}
	free(copy);
}

/* The signature algorithm as the signature blob names it ("" if none). */
static void sig_alg(const uint8_t *sig, size_t n, char *out, size_t outsz)
{
	rd_t r;
	rd_init(&r, sig, n);
	if (rd_cstring(&r, out, outsz) < 0)
		out[0] = 0;
}

static void verify(const uint8_t *data, size_t size)
{
	const uint8_t *blob;
	size_t blen;
	if (!fuzz_next_part(&data, &size, &blob, &blen))
		return;
	uint8_t *b = fuzz_dup(blob, blen), *sig = fuzz_dup(data, size);
	char alg[64];
	sig_alg(sig, size, alg, sizeof(alg));
	struct sshkey *k;
	if (key_from_blob(b, blen, &k) == 0) {
		if (key_sigalg_ok(k, alg))
			(void)key_verify(k, alg, sig, size, signed_data, sizeof(signed_data));
		(void)key_verify(k, key_type_name(k), sig, size, signed_data,
				 sizeof(signed_data));
		key_free(k);
	}
	for (size_t i = 0; i < N_FIXED; i++)
		if (key_sigalg_ok(fixed[i], alg) &&
		    key_verify(fixed[i], alg, sig, size, signed_data, sizeof(signed_data)) == 0)
			abort();   /* a forged signature for a key we have no secret of */
	free(b);
	free(sig);
}

static void public_line(const uint8_t *data, size_t size)
{
	char *s = fuzz_strdup(data, size);
	struct sshkey *k;
	if (key_from_public_line(s, &k) == 0) {
		key_round_trips(k);
		key_free(k);
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0: authorized_keys(data + 1, size - 1); break;
	case 1: key_blob(data + 1, size - 1); break;
	case 2: verify(data + 1, size - 1); break;
	default: public_line(data + 1, size - 1); break;
	}
	return 0;
}
