/* wombat-keygen: create, inspect and print host/user keys in OpenSSH's
 * formats (openssh-key-v1 private files, "type base64 comment" .pub files).
 *
 *   wombat-keygen -t ed25519|ecdsa|rsa [-b bits] -f FILE [-C comment]
 *   wombat-keygen -l -f FILE     bits, fingerprint, comment, type
 *   wombat-keygen -y -f FILE     public key line of a private key
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "crypto.h"
#include "hostkey.h"

#define LINE_MAX_LEN 16384
#define COMMENT_MAX 1024

static void usage(void)
{
	fprintf(stderr,
		"usage: wombat-keygen -t ed25519|ecdsa|rsa [-b bits] -f FILE [-C comment]\n"
		"       wombat-keygen -l -f FILE\n"
		"       wombat-keygen -y -f FILE\n");
	exit(1);
}

static void die(const char *msg)
{
	fprintf(stderr, "wombat-keygen: %s\n", msg);
	exit(1);
}

/* -t and -b to a key type; returns -1 for combinations we cannot make. */
static int pick_type(const char *t, int bits, enum key_type *out)
{
	if (strcmp(t, "ed25519") == 0) {
		*out = KEY_ED25519;
		return 0;
	}
	if (strcmp(t, "rsa") == 0) {
		*out = KEY_RSA;
		return 0;
	}
	if (strcmp(t, "ecdsa") == 0) {
		if (bits == 0 || bits == 256)
			*out = KEY_ECDSA_P256;
		else if (bits == 384)
			*out = KEY_ECDSA_P384;
		else if (bits == 521)
			*out = KEY_ECDSA_P521;
		else
			return -1;
		return 0;
	}
	return -1;
}

/* ssh-keygen's default comment: user@host. */
static void default_comment(char *out, size_t n)
{
	char host[256] = "localhost";
	struct passwd *pw = getpwuid(getuid());
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = 0;
	snprintf(out, n, "%s@%s", pw ? pw->pw_name : "root", host);
}

static int print_public(const struct sshkey *k, const char *comment)
{
	static char line[LINE_MAX_LEN];
	if (key_public_line(k, comment, line, sizeof(line)) < 0)
		return -1;
	printf("%s\n", line);
	return 0;
}

static int cmd_generate(const char *type, int bits, const char *path,
			const char *comment)
{
	enum key_type t;
	struct sshkey *k = NULL;
	char err[512], fp[64], defc[COMMENT_MAX];
	struct stat st;
	if (pick_type(type, bits, &t) < 0)
		die("unsupported key type or size (ed25519, ecdsa -b 256|384|521, rsa -b 1024..16384)");
	if (key_kind_left_out(t))
		die(key_kind_left_out(t));
	if (lstat(path, &st) == 0) {
		fprintf(stderr, "wombat-keygen: %s already exists; remove it first\n", path);
		return 1;
	}
	if (!comment) {
		default_comment(defc, sizeof(defc));
		comment = defc;
	}
	if (key_generate(t, t == KEY_RSA ? bits : 0, &k) < 0)
		die("key generation failed (RSA needs 1024..16384 bits, a multiple of 8)");
	if (key_save_private(k, path, comment, err, sizeof(err)) < 0) {
		key_free(k);
		die(err);
	}
	key_fingerprint(k, fp, sizeof(fp));
	printf("Your identification has been saved in %s\n", path);
	printf("Your public key has been saved in %s.pub\n", path);
	print_public(k, comment);
	printf("The key fingerprint is:\n%s %s\n", fp, comment);
	key_free(k);
	return 0;
}

/* First line of a file, or -1. */
static int read_first_line(const char *path, char *out, size_t n)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char *got = fgets(out, (int)n, f);
	fclose(f);
	if (!got)
		return -1;
	out[strcspn(out, "\r\n")] = 0;
	return 0;
}

/* The comment of a "type base64 comment" line (empty if none). */
static void line_comment(const char *line, char *out, size_t n)
{
	static const char *WS = " \t";
	const char *p = line + strspn(line, WS);
	p += strcspn(p, WS);          /* type */
	p += strspn(p, WS);
	p += strcspn(p, WS);          /* base64 */
	p += strspn(p, WS);
	snprintf(out, n, "%s", p);
}

/* Load FILE as a public key line, else as a private key file. The comment
 * comes from the public line (FILE itself or a matching FILE.pub). */
static struct sshkey *load_any(const char *path, int need_private, char *comment,
			       size_t csz)
{
	static char line[LINE_MAX_LEN];
	char err[512], pubpath[4096];
	struct sshkey *k = NULL, *pub = NULL;
	comment[0] = 0;
	if (!need_private && read_first_line(path, line, sizeof(line)) == 0 &&
	    key_from_public_line(line, &k) == 0) {
		line_comment(line, comment, csz);
		return k;
	}
	if (key_load_private(path, &k, err, sizeof(err)) < 0)
		die(err);
	snprintf(pubpath, sizeof(pubpath), "%s.pub", path);
	if (read_first_line(pubpath, line, sizeof(line)) == 0 &&
	    key_from_public_line(line, &pub) == 0) {
		if (key_equal_public(k, pub))
			line_comment(line, comment, csz);
		key_free(pub);
	}
	return k;
}

/* Modulus bits of an RSA key, read back from its public blob. */
static int rsa_bits(const struct sshkey *k)
{
	buf_t b;
	rd_t r;
	const uint8_t *s, *e, *n;
	size_t sn, en, nn;
	int bits = 0;
	buf_init(&b, 1024, 8192);
	if (key_public_blob(k, &b) == 0) {
		rd_init(&r, buf_data(&b), buf_used(&b));
		if (rd_string(&r, &s, &sn) == 0 && rd_mpint_be(&r, &e, &en) == 0 &&
		    rd_mpint_be(&r, &n, &nn) == 0 && nn > 0) {
			bits = (int)(nn - 1) * 8;
			for (uint8_t top = n[0]; top; top >>= 1)
				bits++;
		}
	}
	buf_free(&b);
	return bits;
}

static int key_bits(const struct sshkey *k)
{
	switch (key_get_type(k)) {
	case KEY_ED25519: return 256;
	case KEY_ECDSA_P256: return 256;
	case KEY_ECDSA_P384: return 384;
	case KEY_ECDSA_P521: return 521;
	case KEY_RSA: return rsa_bits(k);
	}
	return 0;
}

static const char *type_label(const struct sshkey *k)
{
	switch (key_get_type(k)) {
	case KEY_ED25519: return "ED25519";
	case KEY_RSA: return "RSA";
	default: return "ECDSA";
	}
}

static int cmd_list(const char *path)
{
	char comment[COMMENT_MAX], fp[64];
	struct sshkey *k = load_any(path, 0, comment, sizeof(comment));
	key_fingerprint(k, fp, sizeof(fp));
	printf("%d %s %s (%s)\n", key_bits(k), fp, comment[0] ? comment : "no comment",
	       type_label(k));
	key_free(k);
	return 0;
}

static int cmd_public(const char *path)
{
	char comment[COMMENT_MAX];
	struct sshkey *k = load_any(path, 1, comment, sizeof(comment));
	int rc = print_public(k, comment);
	key_free(k);
	if (rc < 0)
		die("cannot encode public key");
	return 0;
}

int main(int argc, char **argv)
{
	const char *type = NULL, *path = NULL, *comment = NULL;
	int bits = 0, list = 0, public_only = 0, c;
	char *end;
	while ((c = getopt(argc, argv, "t:b:f:C:ly")) != -1) {
		switch (c) {
		case 't': type = optarg; break;
		case 'b':
			errno = 0;
			long v = strtol(optarg, &end, 10);
			if (errno || *end || v <= 0 || v > 16384)
				die("bad -b value");
			bits = (int)v;
			break;
		case 'f': path = optarg; break;
		case 'C': comment = optarg; break;
		case 'l': list = 1; break;
		case 'y': public_only = 1; break;
		default: usage();
		}
	}
	if (optind != argc || !path || (list + public_only + (type != NULL)) != 1)
		usage();
	if (crypto_init() != 0)
		die("crypto initialisation failed");
	if (list)
		return cmd_list(path);
	if (public_only)
		return cmd_public(path);
	return cmd_generate(type, bits, path, comment);
}
