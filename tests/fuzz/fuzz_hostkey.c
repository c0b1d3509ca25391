/* fuzz_hostkey: OpenSSH private key files (src/hostkey.c key_load_private
 * and key_load_host: PEM armour, base64, the openssh-key-v1 container, the
 * check ints, each key type's private fields and their consistency checks,
 * the padding). fuzz_auth covers public key blobs, key lines and
 * authorized_keys options; this covers the files host keys come from.
 *
 * dropbear-format files (dropbearkey's, no armour) go through the same
 * loaders.
 *
 * Input: the whole key file (written to a temp file, mode 0600).
 * A key that loads must: have its private half; sign, and verify its own
 * signature; survive key_save_private + key_load_private, and
 * key_save_dropbear + key_load_private, unchanged. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fuzz_util.h"
#include "hostkey.h"

static const uint8_t message[] = "wombat fuzz: exchange hash stand-in";
static char saved_path[160], saved_pub[170];

static void remove_saved(void)
{
	unlink(saved_path);
	unlink(saved_pub);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	snprintf(saved_path, sizeof(saved_path), "%s.saved", fuzz_tmp_path());
	snprintf(saved_pub, sizeof(saved_pub), "%s.pub", saved_path);
	atexit(remove_saved);
	return 0;
}

static const char *sigalg_for(const struct sshkey *k)
{
	return key_get_type(k) == KEY_RSA ? "rsa-sha2-512" : key_type_name(k);
}

static void sign_and_verify(const struct sshkey *k)
{
	buf_t sig;
	const char *alg = sigalg_for(k);
	if (buf_init(&sig, 0, 1 << 16) < 0)
		abort();
	if (!key_sigalg_ok(k, alg) || key_sign(k, alg, message, sizeof(message), &sig) < 0 ||
	    key_verify(k, alg, buf_data(&sig), buf_used(&sig), message, sizeof(message)) != 0)
		abort();   /* a key that loaded must sign, and verifiably */
	buf_free(&sig);
}

static void save_and_reload(const struct sshkey *k)
{
	char err[256];
	struct sshkey *k2;
	unlink(saved_path);
	if (key_save_private(k, saved_path, "fuzz", err, sizeof(err)) < 0)
		abort();
	if (key_load_private(saved_path, &k2, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_hostkey: saved key does not load: %s\n", err);
		abort();
	}
	if (!key_equal_public(k, k2) || !key_has_private(k2))
		abort();
	key_free(k2);
	/* and in dropbear's format */
	unlink(saved_path);
	if (key_save_dropbear(k, saved_path, err, sizeof(err)) < 0 ||
	    key_load_private(saved_path, &k2, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_hostkey: dropbear-format copy does not load: %s\n", err);
		abort();
	}
	if (!key_equal_public(k, k2) || !key_has_private(k2))
		abort();
	key_free(k2);
}

static void check_err(const char *err, size_t sz)
{
	if (strnlen(err, sz) >= sz)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_tmp_write(data, size);
	char err[256] = "";
	struct sshkey *k;
	if (key_load_private(path, &k, err, sizeof(err)) == 0) {
		if (!key_has_private(k))
			abort();
		sign_and_verify(k);
		save_and_reload(k);
		key_free(k);
	}
	check_err(err, sizeof(err));
	/* the host key loader: the same parse after its file checks */
	err[0] = 0;
	if (key_load_host(path, &k, err, sizeof(err)) == 0)
		key_free(k);
	check_err(err, sizeof(err));
	return 0;
}
