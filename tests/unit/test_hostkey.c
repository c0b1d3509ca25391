/* hostkey: key generation, signatures, blobs, public lines, openssh-key-v1
 * files (ours and OpenSSH's), and rejection of malformed input. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "build_opts.h"
#include "crypto.h"
#include "hostkey.h"
#include "unit.h"

/* Generated with OpenSSH: ssh-keygen -t ... -N '' -C fx-...; signatures by
 * ssh-keygen -Y sign -n file over "hello wombat\n". */
struct fixture { const char *name, *priv, *pub, *fp, *sig; };
static const struct fixture fixtures[] = {
	{ "ed25519",
	"-----BEGIN OPENSSH PRIVATE KEY-----\n"
	"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
	"QyNTUxOQAAACAC8j7hqX0He1hmnsboHBUocSQHG4Y4P1iqC0UZNFSYNAAAAJg9aKu5PWir\n"
	"uQAAAAtzc2gtZWQyNTUxOQAAACAC8j7hqX0He1hmnsboHBUocSQHG4Y4P1iqC0UZNFSYNA\n"
	"AAAEBj9lSA/vySUrevbgSaP7EMI9lv54xKtRGYY9b09hFaJgLyPuGpfQd7WGaexugcFShx\n"
	"JAcbhjg/WKoLRRk0VJg0AAAAEWZ4LWVkMjU1MTllZDI1NTE5AQIDBA==\n"
	"-----END OPENSSH PRIVATE KEY-----\n",
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIALyPuGpfQd7WGaexugcFShxJAcbhjg/WKoLRRk0VJg0 fx-ed25519ed25519",
	"SHA256:BMImS85I9rKngrQeAP3RfjCvdQeuqzrK52yASunMdO0",
	"-----BEGIN SSH SIGNATURE-----\n"
	"U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAgAvI+4al9B3tYZp7G6BwVKHEkBx\n"
	"uGOD9YqgtFGTRUmDQAAAAEZmlsZQAAAAAAAAAGc2hhNTEyAAAAUwAAAAtzc2gtZWQyNTUx\n"
	"OQAAAEDVlFrmzRLukSzTejTGYaSl2NGjFfmRXMugCVjGdyurCFg0m52aeQZvVH9A4mQGpK\n"
	"dohCTJB7qUhHZPYdyGtT4I\n"
	"-----END SSH SIGNATURE-----\n" },
	{ "p256",
	"-----BEGIN OPENSSH PRIVATE KEY-----\n"
	"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAaAAAABNlY2RzYS\n"
	"1zaGEyLW5pc3RwMjU2AAAACG5pc3RwMjU2AAAAQQTragqHbVZROwth2rPMkRV4w+faPl6X\n"
	"iuvIQQs/l4aO4lav3hPoT4yBE0tdggAMxk6ErSauPG6XgE/wUKgOty2nAAAAqNtfbnHbX2\n"
	"5xAAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBOtqCodtVlE7C2Ha\n"
	"s8yRFXjD59o+XpeK68hBCz+Xho7iVq/eE+hPjIETS12CAAzGToStJq48bpeAT/BQqA63La\n"
	"cAAAAhANbICkQ2RyFH60/DFbOa+u0uiXN30w+fAkZ2tj6a1dP2AAAAC2Z4LWVjZHNhMjU2\n"
	"AQIDBA==\n"
	"-----END OPENSSH PRIVATE KEY-----\n",
	"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBOtqCodtVlE7C2Has8yRFXjD59o+XpeK68hBCz+Xho7iVq/eE+hPjIETS12CAAzGToStJq48bpeAT/BQqA63Lac= fx-ecdsa256",
	"SHA256:cJqGpP5cE0UaioG4xvfwyeX/OW0RcHeIZbj/9rgCVQQ",
	"-----BEGIN SSH SIGNATURE-----\n"
	"U1NIU0lHAAAAAQAAAGgAAAATZWNkc2Etc2hhMi1uaXN0cDI1NgAAAAhuaXN0cDI1NgAAAE\n"
	"EE62oKh21WUTsLYdqzzJEVeMPn2j5el4rryEELP5eGjuJWr94T6E+MgRNLXYIADMZOhK0m\n"
	"rjxul4BP8FCoDrctpwAAAARmaWxlAAAAAAAAAAZzaGE1MTIAAABlAAAAE2VjZHNhLXNoYT\n"
	"ItbmlzdHAyNTYAAABKAAAAIQDHFMBhG9F0Kr27JuzoU2jj+aFUdf9FqiK4EDAqhDjqeAAA\n"
	"ACEAu/RZXRFaevEJ01ZZYpueFEIjlRakuz+KrNAeU1Os5jM=\n"
	"-----END SSH SIGNATURE-----\n" },
	{ "p384",
	"-----BEGIN OPENSSH PRIVATE KEY-----\n"
	"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAiAAAABNlY2RzYS\n"
	"1zaGEyLW5pc3RwMzg0AAAACG5pc3RwMzg0AAAAYQQ/ndO65+68+hnYU01whIf1gk8m+sf9\n"
	"+JbrcPYeff/GkNQJw6EUc8ZpHWxp3tG4Oj6NWRG3KVB41lIB5huxg1CsDC4w4Gm8nLbMzs\n"
	"3EesgIqiI44Xq6rcvRXIjj433GAgsAAADYMSzu/TEs7v0AAAATZWNkc2Etc2hhMi1uaXN0\n"
	"cDM4NAAAAAhuaXN0cDM4NAAAAGEEP53TuufuvPoZ2FNNcISH9YJPJvrH/fiW63D2Hn3/xp\n"
	"DUCcOhFHPGaR1sad7RuDo+jVkRtylQeNZSAeYbsYNQrAwuMOBpvJy2zM7NxHrICKoiOOF6\n"
	"uq3L0VyI4+N9xgILAAAAMQDas7q58ejiOiHlt62qvRLNmeetRphcOfPdnq/0ta7y/eUWjY\n"
	"UQj0M+xaBeQrjx12kAAAALZngtZWNkc2EzODQBAgME\n"
	"-----END OPENSSH PRIVATE KEY-----\n",
	"ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBD+d07rn7rz6GdhTTXCEh/WCTyb6x/34lutw9h59/8aQ1AnDoRRzxmkdbGne0bg6Po1ZEbcpUHjWUgHmG7GDUKwMLjDgabyctszOzcR6yAiqIjjherqty9FciOPjfcYCCw== fx-ecdsa384",
	"SHA256:4iUqJqowDyyKVeERy8bOe8/O+iWir9nMQPTFGV0jgRA",
	"-----BEGIN SSH SIGNATURE-----\n"
	"U1NIU0lHAAAAAQAAAIgAAAATZWNkc2Etc2hhMi1uaXN0cDM4NAAAAAhuaXN0cDM4NAAAAG\n"
	"EEP53TuufuvPoZ2FNNcISH9YJPJvrH/fiW63D2Hn3/xpDUCcOhFHPGaR1sad7RuDo+jVkR\n"
	"tylQeNZSAeYbsYNQrAwuMOBpvJy2zM7NxHrICKoiOOF6uq3L0VyI4+N9xgILAAAABGZpbG\n"
	"UAAAAAAAAABnNoYTUxMgAAAIQAAAATZWNkc2Etc2hhMi1uaXN0cDM4NAAAAGkAAAAwG3Cr\n"
	"ga3joyxDDeeQSrtRGL+DUknUZ4YL5U7IijWtXfnrrCostGe4AXKbNjfkFxshAAAAMQDJrC\n"
	"w6I/uuXfu23YNqU2PKl/ZB4ZO+OJ8Ug/eDv58Pw0Q/h4FRsbyw2QUJGwLhbD4=\n"
	"-----END SSH SIGNATURE-----\n" },
	{ "p521",
	"-----BEGIN OPENSSH PRIVATE KEY-----\n"
	"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAArAAAABNlY2RzYS\n"
	"1zaGEyLW5pc3RwNTIxAAAACG5pc3RwNTIxAAAAhQQAzsabxxLByS75axH3AL2m8ShKpxdy\n"
	"lyPEHR+3jF466g19E+y/kfZTUL0Wv242nv1pAwyNEL0x2/qvnzfuCls48dABiCUMHjXj9d\n"
	"T985iok+N+8EoLrShBJdkDWeyAYvQNYEp9vC+8b542JNQm6l4BSBmDur2I6FRXNB+qvQUg\n"
	"3b7m0h4AAAEQYFppDmBaaQ4AAAATZWNkc2Etc2hhMi1uaXN0cDUyMQAAAAhuaXN0cDUyMQ\n"
	"AAAIUEAM7Gm8cSwcku+WsR9wC9pvEoSqcXcpcjxB0ft4xeOuoNfRPsv5H2U1C9Fr9uNp79\n"
	"aQMMjRC9Mdv6r5837gpbOPHQAYglDB414/XU/fOYqJPjfvBKC60oQSXZA1nsgGL0DWBKfb\n"
	"wvvG+eNiTUJupeAUgZg7q9iOhUVzQfqr0FIN2+5tIeAAAAQgHhA8oZ7hRk8gY1uq1m/WhO\n"
	"kdKaYIE+U+15VVxxdz/8ij6sPmRx8H+TaiFbPhgsAC+PcOGXY+h3jeAVqQREYPU1GQAAAA\n"
	"tmeC1lY2RzYTUyMQECAwQFBgc=\n"
	"-----END OPENSSH PRIVATE KEY-----\n",
	"ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBADOxpvHEsHJLvlrEfcAvabxKEqnF3KXI8QdH7eMXjrqDX0T7L+R9lNQvRa/bjae/WkDDI0QvTHb+q+fN+4KWzjx0AGIJQweNeP11P3zmKiT437wSgutKEEl2QNZ7IBi9A1gSn28L7xvnjYk1CbqXgFIGYO6vYjoVFc0H6q9BSDdvubSHg== fx-ecdsa521",
	"SHA256:dU0qQTRzTlPbjnLxckOzmAcNurkJgh3P43LEEDJqnpo",
	"-----BEGIN SSH SIGNATURE-----\n"
	"U1NIU0lHAAAAAQAAAKwAAAATZWNkc2Etc2hhMi1uaXN0cDUyMQAAAAhuaXN0cDUyMQAAAI\n"
	"UEAM7Gm8cSwcku+WsR9wC9pvEoSqcXcpcjxB0ft4xeOuoNfRPsv5H2U1C9Fr9uNp79aQMM\n"
	"jRC9Mdv6r5837gpbOPHQAYglDB414/XU/fOYqJPjfvBKC60oQSXZA1nsgGL0DWBKfbwvvG\n"
	"+eNiTUJupeAUgZg7q9iOhUVzQfqr0FIN2+5tIeAAAABGZpbGUAAAAAAAAABnNoYTUxMgAA\n"
	"AKcAAAATZWNkc2Etc2hhMi1uaXN0cDUyMQAAAIwAAABCASsGWO3XXSJ2r5rndgKiWgEjSN\n"
	"THUyEyTbhnx57KDzJCKpXp/6qndTXmAvy53W1mXKQ65HvF6Ea2mMwG34qmN42sAAAAQgHD\n"
	"fPu6TQxL2+JpxqtUSIuGqlinwpuGM1mIERwLEDc0QufqlFg7zKrMANRI9Jq2eyCRUSxNZM\n"
	"eivb1IFkOl/Dm7jw==\n"
	"-----END SSH SIGNATURE-----\n" },
	{ "rsa2048",
	"-----BEGIN OPENSSH PRIVATE KEY-----\n"
	"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABFwAAAAdzc2gtcn\n"
	"NhAAAAAwEAAQAAAQEAwzo4jptPWTu4gLNCSlg6tbE9n41Izq012BHFRUVlJ5eESn864N9C\n"
	"zQbtuaqchR9FomNAXaWqvgz8P6CudOO9ZU23k/zmcCRX6NQEJU83MSwGpQ0Wu4jJLjVhPM\n"
	"MP/kZAkjTYwBGZXffi/PRHeWpgWWxvLL8OM/7azH8UcFev+r6eJmap2CLSymI0bnmyzIZg\n"
	"ZymQMebVh9pSXRAscp2hRrmoBttNnBjbnbKO0A5IDP90VbzOqqzS6fbEB8ktw57DG8G7wb\n"
	"hm7oBU0CUdX/aYGDbuytGsnWl6nnt3wPy6dgoDvm168VsWjKp9x/Qm+Ex35fy28mek4eSk\n"
	"kG28cvv3QQAAA8Cn4e9rp+HvawAAAAdzc2gtcnNhAAABAQDDOjiOm09ZO7iAs0JKWDq1sT\n"
	"2fjUjOrTXYEcVFRWUnl4RKfzrg30LNBu25qpyFH0WiY0Bdpaq+DPw/oK50471lTbeT/OZw\n"
	"JFfo1AQlTzcxLAalDRa7iMkuNWE8ww/+RkCSNNjAEZld9+L89Ed5amBZbG8svw4z/trMfx\n"
	"RwV6/6vp4mZqnYItLKYjRuebLMhmBnKZAx5tWH2lJdECxynaFGuagG202cGNudso7QDkgM\n"
	"/3RVvM6qrNLp9sQHyS3DnsMbwbvBuGbugFTQJR1f9pgYNu7K0aydaXqee3fA/Lp2CgO+bX\n"
	"rxWxaMqn3H9Cb4THfl/LbyZ6Th5KSQbbxy+/dBAAAAAwEAAQAAAQAnZ/6XhnDvTZcx3z0f\n"
	"vYxoNVT/eii6kwrdyMR9dYL0CWjqEqFjV51nviDJC8+ZLVVEcG1DGdgLkZpvC3N7Y6bMpn\n"
	"HKPM+UzjkyZW1KzKES21SiBzDR/MvC+IJene8B/9Mzz9f6ePLwnUMjlPlCYD7/fdw4932Z\n"
	"8DTg9zu8a265mVsCookGV2wDUwMzLsFLbSWKGMpC516WW1ubUQXpN6Z2RqwTkV+eHlVbBn\n"
	"0VKSlDIPhVjyX58Le+Yty3K41zasDP2jDsNQZ1a+ZU708k2sFTbP3b9+DNKeHm4bmPgmTQ\n"
	"2J7NdtcJ8vAkvuL9j+kPS75hYsTaLXod/17qS6jPTbPzAAAAgQDdx6qiF99Ry5TTwSgfM0\n"
	"V8ezLzFqeNZvp0kP6ruRVpJ6zffI2L4wOKmd27gUOJ5NKCGFPUjovOBnqCpI+3Su2y9fOi\n"
	"TiRtOeszffRTlhEocmY0UDFqzTMeYDd9dszqPc+5dKwtpktWB3AF1tx6sxIqnhZCIo6RyD\n"
	"w1+Vp7Rku20wAAAIEA6cNZZAEYxwVIYDGiube6/KzmXYFfG9+zsVcQ22SksGAvtYfu7hwg\n"
	"p8+zQfy16IhT2oDcD6gd5yA/IWT4RmiTT4DO4Ky2q0zc+5njtkXPbZ9ECIugmGXsZ2ynEj\n"
	"k/DFVQ8QjfG8GLS17d17kbL1uDSrnzr0TiV9yqwmuuIktpvn8AAACBANXMcVvsVlq2WClx\n"
	"ARzcH3JBn9vfPmZrOMDEa4eLrFUAQVm5qHjwPfUslX123b/qV5CcFGV3Qfkq/6IOCA4W7k\n"
	"2Ep6hcrbFnofqwhQl5J5kME76CCgVm4OHoxdhLLeMq3V17+xAqk89Tjgyu+By3WblWURy2\n"
	"8tGVSyC5pvSFKuo/AAAACmZ4LXJzYTIwNDg=\n"
	"-----END OPENSSH PRIVATE KEY-----\n",
	"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDDOjiOm09ZO7iAs0JKWDq1sT2fjUjOrTXYEcVFRWUnl4RKfzrg30LNBu25qpyFH0WiY0Bdpaq+DPw/oK50471lTbeT/OZwJFfo1AQlTzcxLAalDRa7iMkuNWE8ww/+RkCSNNjAEZld9+L89Ed5amBZbG8svw4z/trMfxRwV6/6vp4mZqnYItLKYjRuebLMhmBnKZAx5tWH2lJdECxynaFGuagG202cGNudso7QDkgM/3RVvM6qrNLp9sQHyS3DnsMbwbvBuGbugFTQJR1f9pgYNu7K0aydaXqee3fA/Lp2CgO+bXrxWxaMqn3H9Cb4THfl/LbyZ6Th5KSQbbxy+/dB fx-rsa2048",
	"SHA256:7JcIE4epNa6idptqIXAZ12fV8sImSPrFFIx+y9BcOO4",
	"-----BEGIN SSH SIGNATURE-----\n"
	"U1NIU0lHAAAAAQAAARcAAAAHc3NoLXJzYQAAAAMBAAEAAAEBAMM6OI6bT1k7uICzQkpYOr\n"
	"WxPZ+NSM6tNdgRxUVFZSeXhEp/OuDfQs0G7bmqnIUfRaJjQF2lqr4M/D+grnTjvWVNt5P8\n"
	"5nAkV+jUBCVPNzEsBqUNFruIyS41YTzDD/5GQJI02MARmV334vz0R3lqYFlsbyy/DjP+2s\n"
	"x/FHBXr/q+niZmqdgi0spiNG55ssyGYGcpkDHm1YfaUl0QLHKdoUa5qAbbTZwY252yjtAO\n"
	"SAz/dFW8zqqs0un2xAfJLcOewxvBu8G4Zu6AVNAlHV/2mBg27srRrJ1pep57d8D8unYKA7\n"
	"5tevFbFoyqfcf0JvhMd+X8tvJnpOHkpJBtvHL790EAAAAEZmlsZQAAAAAAAAAGc2hhNTEy\n"
	"AAABFAAAAAxyc2Etc2hhMi01MTIAAAEAFAfuXHTOTStgAThRE/lbeWLVaVQicIqpIGxfdz\n"
	"WtAubAe1+zsnJgzzELFgDzopxgdTsVxx4mCf4e7QpRiMrL2kv2qEOkz7/07UwgOSKRPFqq\n"
	"aK+cvqY4rww52av3U1riStMTmv0RR13CamrWYydYMPLnnBj+DHEfrh4KJ/ktxDyZgL5OJw\n"
	"b3VisMuA6m2JeCBwvOm0lf0xJatiMiR0YAo/OqFNtvakOxZIssaF0DdqrkUfi6YDbFMMSa\n"
	"bKaLSlZLPrxA6ymswe003Yr0lPm0oBN/apApKiyxDy3AYxQ5MDTe6XnORH9rTjfL1jENKX\n"
	"2fYujFyasjvOSmMnGrg8m+ug==\n"
	"-----END SSH SIGNATURE-----\n" },
};

static const char MSG[] = "hello wombat\n";
static char tmpdir[64];

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static char *read_text(const char *path)
{
	static char buf[32768];
	FILE *f = fopen(path, "r");
	size_t n = 0;
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = 0;
	return buf;
}

/* Strip "-----" lines and whitespace, base64-decode. */
static size_t dearmour(const char *text, uint8_t *out, size_t cap)
{
	static char clean[32768];
	size_t m = 0;
	const char *p = text;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (strncmp(p, "-----", 5) != 0) {
			memcpy(clean + m, p, len);
			m += len;
		}
		p += len + (eol ? 1 : 0);
	}
	if (b64_decode(clean, m, out, &cap) < 0)
		return 0;
	return cap;
}

static char *armour(const uint8_t *bin, size_t n)
{
	static char text[32768];
	int l = (int)strlen(strcpy(text, "-----BEGIN OPENSSH PRIVATE KEY-----\n"));
	int e = b64_encode(bin, n, text + l, sizeof(text) - (size_t)l - 64, 1);
	CHECK(e >= 0);
	strcat(text, "\n-----END OPENSSH PRIVATE KEY-----\n");
	return text;
}

static int load_text(const char *text, struct sshkey **k, char *err, size_t errsz)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/k", tmpdir);
	write_text(path, text);
	return key_load_private(path, k, err, errsz);
}

/* ------------------------------------------------------------- base64 */

static void test_base64(void)
{
	static const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	char out[32];
	uint8_t dec[32];
	for (int i = 0; i < 7; i++) {
		size_t n = strlen(plain[i]), cap = sizeof(dec);
		CHECK(b64_encode((const uint8_t *)plain[i], n, out, sizeof(out), 1) == (int)strlen(enc[i]));
		CHECK(strcmp(out, enc[i]) == 0);
		CHECK(b64_decode(enc[i], strlen(enc[i]), dec, &cap) == 0);
		CHECK(cap == n && memcmp(dec, plain[i], n) == 0);
	}
	CHECK(b64_encode((const uint8_t *)"f", 1, out, sizeof(out), 0) == 2 && strcmp(out, "Zg") == 0);
	size_t cap = sizeof(dec);
	CHECK(b64_decode("Zg", 2, dec, &cap) == 0 && cap == 1 && dec[0] == 'f');
	cap = sizeof(dec);
	CHECK(b64_decode("Z", 1, dec, &cap) < 0);
	cap = sizeof(dec);
	CHECK(b64_decode("Zm9v!mFy", 8, dec, &cap) < 0);
	cap = sizeof(dec);
	CHECK(b64_decode("Zg=", 3, dec, &cap) < 0);
	cap = sizeof(dec);
	CHECK(b64_decode("Z=g=", 4, dec, &cap) < 0);
	cap = 2;
	CHECK(b64_decode("Zm9v", 4, dec, &cap) < 0);           /* no room */
	CHECK(b64_encode((const uint8_t *)"foo", 3, out, 4, 1) < 0);   /* no room for NUL */
}

/* ------------------------------------------------- generated keys */

static const char *sigalgs_for(enum key_type t, int i)
{
	static const char *ed[] = { "ssh-ed25519", NULL };
	static const char *p256[] = { "ecdsa-sha2-nistp256", NULL };
	static const char *p384[] = { "ecdsa-sha2-nistp384", NULL };
	static const char *p521[] = { "ecdsa-sha2-nistp521", NULL };
	static const char *rsa[] = { "rsa-sha2-256", "rsa-sha2-512", NULL };
	const char **l = t == KEY_ED25519 ? ed : t == KEY_ECDSA_P256 ? p256 :
			 t == KEY_ECDSA_P384 ? p384 : t == KEY_ECDSA_P521 ? p521 : rsa;
	return l[i];
}

static void test_sign_verify(struct sshkey *k, struct sshkey *pub)
{
	for (int i = 0; sigalgs_for(key_get_type(k), i); i++) {
		const char *alg = sigalgs_for(key_get_type(k), i);
		buf_t sig;
		buf_init(&sig, 64, 65536);
		CHECK(key_sigalg_ok(k, alg));
		CHECK(key_sign(k, alg, (const uint8_t *)MSG, strlen(MSG), &sig) == 0);
		uint8_t *s = buf_data(&sig);
		size_t sn = buf_used(&sig);
		CHECK(key_verify(pub, alg, s, sn, (const uint8_t *)MSG, strlen(MSG)) == 0);
		CHECK(key_verify(k, alg, s, sn, (const uint8_t *)MSG, strlen(MSG)) == 0);
		/* other data */
		CHECK(key_verify(pub, alg, s, sn, (const uint8_t *)MSG, strlen(MSG) - 1) != 0);
		/* every byte of the signature value matters */
		size_t start = 4 + strlen(alg) + 4;
		for (size_t j = start; j < sn; j += (sn - start) / 7 + 1) {
			s[j] ^= 0x01;
			CHECK(key_verify(pub, alg, s, sn, (const uint8_t *)MSG, strlen(MSG)) != 0);
			s[j] ^= 0x01;
		}
		s[sn - 1] ^= 0x80;
		CHECK(key_verify(pub, alg, s, sn, (const uint8_t *)MSG, strlen(MSG)) != 0);
		s[sn - 1] ^= 0x80;
		/* truncated blob, trailing garbage */
		CHECK(key_verify(pub, alg, s, sn - 1, (const uint8_t *)MSG, strlen(MSG)) != 0);
		buf_put_u8(&sig, 0);
		CHECK(key_verify(pub, alg, buf_data(&sig), buf_used(&sig),
				 (const uint8_t *)MSG, strlen(MSG)) != 0);
		/* the blob's algorithm must be the one asked for */
		if (key_get_type(k) == KEY_RSA) {
			const char *other = strcmp(alg, "rsa-sha2-256") ? "rsa-sha2-256" : "rsa-sha2-512";
			CHECK(key_verify(pub, other, buf_data(&sig), sn,
					 (const uint8_t *)MSG, strlen(MSG)) != 0);
		}
		buf_free(&sig);
	}
	CHECK(!key_sigalg_ok(k, "ssh-rsa"));
	CHECK(!key_sigalg_ok(k, "ssh-dss"));
	buf_t sig;
	buf_init(&sig, 64, 65536);
	CHECK(key_sign(pub, sigalgs_for(key_get_type(k), 0), (const uint8_t *)MSG,
		       strlen(MSG), &sig) != 0);   /* public key cannot sign */
	CHECK(key_sign(k, "ssh-rsa", (const uint8_t *)MSG, strlen(MSG), &sig) != 0);
	CHECK(buf_used(&sig) == 0);
	buf_free(&sig);
}

static struct sshkey *blob_round_trip(struct sshkey *k)
{
	buf_t b;
	struct sshkey *pub = NULL;
	buf_init(&b, 64, 65536);
	CHECK(key_public_blob(k, &b) == 0);
	CHECK(key_from_blob(buf_data(&b), buf_used(&b), &pub) == 0);
	if (!pub) {
		buf_free(&b);
		return NULL;
	}
	CHECK(key_equal_public(k, pub));
	CHECK(!key_has_private(pub));
	CHECK(key_get_type(pub) == key_get_type(k));
	struct sshkey *bad = NULL;
	CHECK(key_from_blob(buf_data(&b), buf_used(&b) - 1, &bad) != 0);
	buf_put_u8(&b, 0);
	CHECK(key_from_blob(buf_data(&b), buf_used(&b), &bad) != 0);
	buf_free(&b);
	return pub;
}

static void line_round_trip(struct sshkey *k)
{
	char line[8192], fp[64];
	struct sshkey *p = NULL;
	CHECK(key_public_line(k, "me@host", line, sizeof(line)) == 0);
	CHECK(strncmp(line, key_type_name(k), strlen(key_type_name(k))) == 0);
	CHECK(strcmp(line + strlen(line) - 8, " me@host") == 0);
	CHECK(key_from_public_line(line, &p) == 0);
	if (p) {
		CHECK(key_equal_public(k, p));
		key_free(p);
	}
	key_fingerprint(k, fp, sizeof(fp));
	CHECK(strncmp(fp, "SHA256:", 7) == 0 && strlen(fp) == 7 + 43);
	/* wrong type name in front of a valid blob */
	char *sp = strchr(line, ' ');
	char wrong[8300];
	snprintf(wrong, sizeof(wrong), "%s%s",
		 key_get_type(k) == KEY_ED25519 ? "ssh-rsa" : "ssh-ed25519", sp);
	CHECK(key_from_public_line(wrong, &p) != 0);
	CHECK(key_public_line(k, NULL, line, 20) != 0);   /* too small */
}

static void save_load_round_trip(struct sshkey *k)
{
	char path[128], pubpath[140], err[256];
	struct sshkey *l = NULL, *p = NULL;
	struct stat st;
	snprintf(path, sizeof(path), "%s/saved", tmpdir);
	snprintf(pubpath, sizeof(pubpath), "%s.pub", path);
	CHECK(key_save_private(k, path, "round trip", err, sizeof(err)) == 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(key_load_private(path, &l, err, sizeof(err)) == 0);
	if (!l)
		return;
	CHECK(key_has_private(l));
	CHECK(key_equal_public(k, l));
	/* the loaded key signs, the original verifies */
	const char *alg = sigalgs_for(key_get_type(k), 0);
	buf_t sig;
	buf_init(&sig, 64, 65536);
	CHECK(key_sign(l, alg, (const uint8_t *)MSG, 5, &sig) == 0);
	CHECK(key_verify(k, alg, buf_data(&sig), buf_used(&sig), (const uint8_t *)MSG, 5) == 0);
	buf_free(&sig);
	char *pubtext = read_text(pubpath);
	CHECK(strstr(pubtext, " round trip\n") != NULL);
	CHECK(key_from_public_line(pubtext, &p) == 0);
	if (p) {
		CHECK(key_equal_public(k, p));
		key_free(p);
	}
	key_free(l);
	unlink(pubpath);
	unlink(path);
}

/* Is key type t left out of this build (--disable-rsa, --disable-nist)? */
static int left_out(enum key_type t)
{
	return t == KEY_RSA ? !HAVE_RSA : t != KEY_ED25519 && !HAVE_NIST;
}

/* A host key through the listener's snapshot (key_private_blob, then
 * key_from_private_blob in the connection process; RSA and ECDSA keys stay
 * a blob there until their first signature): the same public key, a blob
 * that goes on unchanged, and signatures that verify. */
static void snapshot_round_trip(struct sshkey *k)
{
	buf_t blob, pub_k, pub_c, again;
	struct sshkey *c = NULL;
	buf_init(&blob, 1024, 65536);
	buf_init(&pub_k, 256, 65536);
	buf_init(&pub_c, 256, 65536);
	buf_init(&again, 1024, 65536);
	CHECK(key_private_blob(k, &blob) == 0);
	CHECK(key_from_private_blob(buf_data(&blob), buf_used(&blob), &c) == 0);
	if (c) {
		CHECK(key_get_type(c) == key_get_type(k) && key_has_private(c));
		CHECK(key_public_blob(k, &pub_k) == 0 && key_public_blob(c, &pub_c) == 0);
		CHECK(buf_used(&pub_k) == buf_used(&pub_c) &&
		      memcmp(buf_data(&pub_k), buf_data(&pub_c), buf_used(&pub_k)) == 0);
		CHECK(key_equal_public(k, c));
		/* a deferred key goes on as it came (an Ed25519 key is written
		 * anew, with fresh check numbers) */
		CHECK(key_private_blob(c, &again) == 0);
		if (key_get_type(k) != KEY_ED25519)
			CHECK(buf_used(&again) == buf_used(&blob) &&
			      memcmp(buf_data(&again), buf_data(&blob), buf_used(&blob)) == 0);
		struct sshkey *p = NULL;
		CHECK(key_from_blob(buf_data(&pub_k), buf_used(&pub_k), &p) == 0);
		if (p)
			test_sign_verify(c, p);     /* parses c's numbers at its first signature */
		key_free(p);
		buf_reset(&pub_c);
		CHECK(key_public_blob(c, &pub_c) == 0 && buf_used(&pub_k) == buf_used(&pub_c) &&
		      memcmp(buf_data(&pub_k), buf_data(&pub_c), buf_used(&pub_k)) == 0);
		key_free(c);
	}
	/* a truncated blob is refused, whatever the key type */
	c = NULL;
	CHECK(key_from_private_blob(buf_data(&blob), buf_used(&blob) - 1, &c) != 0 && !c);
	buf_free(&blob);
	buf_free(&pub_k);
	buf_free(&pub_c);
	buf_free(&again);
}

static void test_generated(enum key_type t, int bits)
{
	if (left_out(t)) {
		struct sshkey *k = NULL;
		printf("SKIPPED: generating key type %d (left out of this build:%s); "
		       "checking it is refused\n", (int)t, FEATURES_LEFT_OUT);
		CHECK(key_generate(t, bits, &k) != 0 && k == NULL);
		CHECK(key_kind_left_out(t) != NULL);
		return;
	}
	CHECK(key_kind_left_out(t) == NULL);
	struct sshkey *k = NULL;
	CHECK(key_generate(t, bits, &k) == 0);
	if (!k)
		return;
	CHECK(key_has_private(k));
	CHECK(key_get_type(k) == t);
	struct sshkey *pub = blob_round_trip(k);
	if (pub) {
		test_sign_verify(k, pub);
		key_free(pub);
	}
	line_round_trip(k);
	save_load_round_trip(k);
	snapshot_round_trip(k);
	key_free(k);
}

/* A signature whose value has a leading zero byte is still accepted when the
 * sender strips it (OpenSSH does so); one longer than the modulus is not. */
/* ssh-rsa (RSA PKCS#1 v1.5 with SHA-1) over MSG by the rsa2048 fixture's
 * key, made with python3-cryptography: verified for user keys (the admin
 * opts in with PubkeyAcceptedAlgorithms), never made by wombat. */
static const char rsa2048_sha1_sig[] =
	"7832a3873883bca0f384e306f45905509d06bcc78383fb87d3e466202b27eb6c"
	"72b41fda8e29668bc5eec8011be76d5678a59c0e42e2a4f1ca95dc0d4ab3f59e"
	"949ca70fce4c62b1c568d8e146546d308325d7643c7f3c3d3cdf9336d14c76a7"
	"23d67e975139c5cf5181b2384c3257f5a47212bda161eaa538f5ecada1394235"
	"583b38418e55d50866fe00a026aee2e928a413d5f3a0a18fd082d70129c824d0"
	"60f5d889fe045660b19feba49068b65bdbea4d092bd155ea747cdd41fa4414cd"
	"80ed1d4a7e95e76fbf5d245cf7189c0d6376617bf95ed60493d860b148d07b8e"
	"ab9aaeb73c83a27b1fe97517414fe9822d309b3631651dc93a6142cf360711bd";

static void test_ssh_rsa_verify(void)
{
	const struct fixture *f = NULL;
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
		if (strcmp(fixtures[i].name, "rsa2048") == 0)
			f = &fixtures[i];
	struct sshkey *k = NULL, *ed = NULL;
	CHECK(f && key_from_public_line(f->pub, &k) == 0);
	CHECK(key_from_public_line(fixtures[0].pub, &ed) == 0);
	if (!k || !ed)
		return;
	uint8_t raw[256];
	CHECK(unit_unhex(rsa2048_sha1_sig, raw, sizeof raw) == 256);
	buf_t sig;
	buf_init(&sig, 300, 4096);
	buf_put_cstring(&sig, "ssh-rsa");
	buf_put_string(&sig, raw, sizeof raw);
	const uint8_t *m = (const uint8_t *)MSG;
	CHECK(key_verify_alg_ok(k, "ssh-rsa") && !key_sigalg_ok(k, "ssh-rsa"));
	CHECK(!key_verify_alg_ok(ed, "ssh-rsa"));
	CHECK(key_verify(k, "ssh-rsa", buf_data(&sig), buf_used(&sig), m, strlen(MSG)) == 0);
	CHECK(key_verify(k, "ssh-rsa", buf_data(&sig), buf_used(&sig), m, strlen(MSG) - 1) != 0);
	CHECK(key_verify(k, "rsa-sha2-256", buf_data(&sig), buf_used(&sig), m, strlen(MSG)) != 0);
	buf_data(&sig)[buf_used(&sig) - 9] ^= 0x04;
	CHECK(key_verify(k, "ssh-rsa", buf_data(&sig), buf_used(&sig), m, strlen(MSG)) != 0);
	buf_free(&sig);
	key_free(k);
	key_free(ed);
}

static void test_rsa_short_signature(void)
{
	struct sshkey *k = NULL;
	CHECK(key_generate(KEY_RSA, 1024, &k) == 0);
	if (!k)
		return;
	int found = 0;
	for (int i = 0; i < 4000 && !found; i++) {
		buf_t sig;
		uint8_t data[4] = { (uint8_t)i, (uint8_t)(i >> 8), 1, 2 };
		buf_init(&sig, 64, 65536);
		CHECK(key_sign(k, "rsa-sha2-256", data, 4, &sig) == 0);
		uint8_t *s = buf_data(&sig);
		size_t head = 4 + 12 + 4;       /* string "rsa-sha2-256", length */
		if (buf_used(&sig) != head + 128 || s[head] != 0) {
			buf_free(&sig);
			continue;
		}
		buf_t shorter, longer;
		buf_init(&shorter, 64, 4096);
		buf_init(&longer, 64, 4096);
		buf_put_cstring(&shorter, "rsa-sha2-256");
		buf_put_string(&shorter, s + head + 1, 127);
		CHECK(key_verify(k, "rsa-sha2-256", buf_data(&shorter), buf_used(&shorter), data, 4) == 0);
		buf_put_cstring(&longer, "rsa-sha2-256");
		uint8_t pad[129] = { 0 };
		memcpy(pad + 1, s + head, 128);
		buf_put_string(&longer, pad, 129);
		CHECK(key_verify(k, "rsa-sha2-256", buf_data(&longer), buf_used(&longer), data, 4) != 0);
		buf_free(&shorter);
		buf_free(&longer);
		buf_free(&sig);
		found = 1;
	}
	CHECK(found);
	key_free(k);
	CHECK(key_generate(KEY_RSA, 512, &k) != 0);
	CHECK(key_generate(KEY_RSA, 1028, &k) != 0);
}

/* ------------------------------------------------- OpenSSH fixtures */

/* ssh-keygen -Y sign output (PROTOCOL.sshsig): check the inner signature
 * over the signed-data structure with key_verify. */
static void check_sshsig(const struct fixture *f, struct sshkey *k)
{
	uint8_t bin[4096], h[64];
	size_t n = dearmour(f->sig, bin, sizeof(bin));
	rd_t r;
	uint32_t ver;
	const uint8_t *pub, *ns, *res, *halg, *sig;
	size_t pn, nsn, resn, hn, sn;
	CHECK(n > 6 && memcmp(bin, "SSHSIG", 6) == 0);
	rd_init(&r, bin + 6, n - 6);
	rd_u32(&r, &ver);
	rd_string(&r, &pub, &pn);
	rd_string(&r, &ns, &nsn);
	rd_string(&r, &res, &resn);
	rd_string(&r, &halg, &hn);
	rd_string(&r, &sig, &sn);
	CHECK(rd_end(&r) == 0 && ver == 1 && hn == 6 && memcmp(halg, "sha512", 6) == 0);
	if (rd_end(&r) != 0)
		return;
	buf_t b, signed_data;
	buf_init(&b, 64, 65536);
	key_public_blob(k, &b);
	CHECK(buf_used(&b) == pn && memcmp(buf_data(&b), pub, pn) == 0);
	buf_free(&b);
	hash_mem(HASH_SHA512, MSG, strlen(MSG), h);
	buf_init(&signed_data, 64, 65536);
	buf_put(&signed_data, "SSHSIG", 6);
	buf_put_string(&signed_data, ns, nsn);
	buf_put_string(&signed_data, res, resn);
	buf_put_string(&signed_data, halg, hn);
	buf_put_string(&signed_data, h, 64);
	char alg[32];
	rd_init(&r, sig, sn);
	CHECK(rd_cstring(&r, alg, sizeof(alg)) == 0);
	CHECK(key_verify(k, alg, sig, sn, buf_data(&signed_data), buf_used(&signed_data)) == 0);
	buf_data(&signed_data)[buf_used(&signed_data) - 1] ^= 1;
	CHECK(key_verify(k, alg, sig, sn, buf_data(&signed_data), buf_used(&signed_data)) != 0);
	buf_free(&signed_data);
}

/* A fixture of a left-out type: its files and lines are refused, with the
 * reason naming the configure option. */
static void test_left_out_fixture(const struct fixture *f)
{
	struct sshkey *k = NULL;
	char err[256];
	printf("SKIPPED: fixture %s (left out of this build:%s); checking it is refused\n",
	       f->name, FEATURES_LEFT_OUT);
	CHECK(load_text(f->priv, &k, err, sizeof(err)) != 0);
	CHECK(strstr(err, "left out of this build (configured with --disable-") != NULL);
	CHECK(key_from_public_line(f->pub, &k) != 0);
}

static void test_fixture(const struct fixture *f)
{
	struct sshkey *k = NULL, *p = NULL;
	char err[256], fp[64], line[8192];
	char type[32];
	enum key_type t;
	snprintf(type, sizeof(type), "%.*s", (int)strcspn(f->pub, " "), f->pub);
	if (key_type_left_out(type)) {
		CHECK(key_type_from_name(type, &t) != 0);
		test_left_out_fixture(f);
		return;
	}
	CHECK(load_text(f->priv, &k, err, sizeof(err)) == 0);
	if (!k) {
		fprintf(stderr, "fixture %s: %s\n", f->name, err);
		return;
	}
	key_fingerprint(k, fp, sizeof(fp));
	CHECK(strcmp(fp, f->fp) == 0);
	const char *comment = strrchr(f->pub, ' ') + 1;
	CHECK(key_public_line(k, comment, line, sizeof(line)) == 0);
	CHECK(strcmp(line, f->pub) == 0);
	CHECK(key_from_public_line(f->pub, &p) == 0);
	if (p) {
		CHECK(key_equal_public(k, p));
		check_sshsig(f, p);
		key_free(p);
	}
	key_free(k);
}

/* ------------------------------------------------- malformed files */

/* Offsets into a decoded single-key file written by us or OpenSSH. */
struct layout { size_t pub_off, pub_len, priv_off, priv_len; };

static int find_layout(const uint8_t *bin, size_t n, struct layout *L)
{
	rd_t r;
	const uint8_t *s;
	size_t sn;
	uint32_t nk;
	rd_init(&r, bin, n);
	rd_skip(&r, 15);
	rd_string(&r, &s, &sn);
	rd_string(&r, &s, &sn);
	rd_string(&r, &s, &sn);
	rd_u32(&r, &nk);
	rd_string(&r, &s, &sn);
	L->pub_off = (size_t)(s - bin);
	L->pub_len = sn;
	rd_string(&r, &s, &sn);
	L->priv_off = (size_t)(s - bin);
	L->priv_len = sn;
	return rd_end(&r);
}

static void expect_reject(const uint8_t *bin, size_t n, const char *why_part)
{
	struct sshkey *k = NULL;
	char err[256] = "";
	CHECK(load_text(armour(bin, n), &k, err, sizeof(err)) != 0);
	CHECK(k == NULL);
	CHECK(!why_part || strstr(err, why_part) != NULL);
	if (why_part && !strstr(err, why_part))
		fprintf(stderr, "  error was: %s (wanted %s)\n", err, why_part);
	key_free(k);
}

static void test_malformed(void)
{
	uint8_t bin[4096], mod[4096];
	struct layout L = { 0 };
	struct sshkey *k = NULL;
	char err[256];
	size_t n = dearmour(fixtures[0].priv, bin, sizeof(bin));
	CHECK(n > 0 && find_layout(bin, n, &L) == 0);
	/* the unmodified re-armoured file loads */
	CHECK(load_text(armour(bin, n), &k, err, sizeof(err)) == 0);
	key_free(k);
	/* every truncation fails */
	for (size_t cut = 0; cut < n; cut++)
		expect_reject(bin, cut, NULL);
	/* check ints differ */
	memcpy(mod, bin, n);
	mod[L.priv_off + 7] ^= 1;
	expect_reject(mod, n, "check ints");
	/* padding byte wrong (OpenSSH's ed25519 file ends in 01 02 03 04) */
	memcpy(mod, bin, n);
	CHECK(mod[n - 1] == 4 && mod[n - 2] == 3);
	mod[n - 2] = 9;
	expect_reject(mod, n, "padding");
	/* private copy of the public key differs */
	memcpy(mod, bin, n);
	mod[L.priv_off + 8 + 4 + 11 + 4] ^= 1;
	expect_reject(mod, n, "mismatch");
	/* seed does not give the public key */
	memcpy(mod, bin, n);
	mod[L.priv_off + 8 + 4 + 11 + 4 + 32 + 4] ^= 1;
	expect_reject(mod, n, "does not match");
	/* public section changed */
	memcpy(mod, bin, n);
	mod[L.pub_off + L.pub_len - 1] ^= 1;
	expect_reject(mod, n, NULL);
	/* bad magic */
	memcpy(mod, bin, n);
	mod[3] = 'X';
	expect_reject(mod, n, "magic");
	/* trailing data after the container */
	memcpy(mod, bin, n);
	mod[n] = 0;
	expect_reject(mod, n + 1, NULL);
	/* encrypted: the same layout with aes256-ctr/bcrypt */
	buf_t e;
	buf_init(&e, 256, 65536);
	buf_put(&e, bin, 15);
	buf_put_cstring(&e, "aes256-ctr");
	buf_put_cstring(&e, "bcrypt");
	uint8_t kdf[24] = { 0, 0, 0, 16 };
	kdf[23] = 16;
	buf_put_string(&e, kdf, sizeof(kdf));
	buf_put_u32(&e, 1);
	buf_put_string(&e, bin + L.pub_off, L.pub_len);
	buf_put_string(&e, bin + L.priv_off, L.priv_len);
	expect_reject(buf_data(&e), buf_used(&e), "encrypted keys are not supported");
	buf_free(&e);
	/* not armoured at all / other PEM */
	CHECK(load_text("hello\n", &k, err, sizeof(err)) != 0);
	CHECK(load_text("-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n",
			&k, err, sizeof(err)) != 0 && strstr(err, "ssh-keygen -p"));
	CHECK(load_text("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blb!!!\n"
			"-----END OPENSSH PRIVATE KEY-----\n", &k, err, sizeof(err)) != 0);
	char path[128];
	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	CHECK(key_load_private(path, &k, err, sizeof(err)) != 0);
}

/* The RSA fixture with its p and q fields corrupted must not load. */
static void test_malformed_rsa(void)
{
	uint8_t bin[4096];
	struct layout L = { 0 };
	size_t n = dearmour(fixtures[4].priv, bin, sizeof(bin));
	CHECK(n > 0 && find_layout(bin, n, &L) == 0);
	/* last byte before the comment string is the low byte of q */
	const char *comment = "fx-rsa2048";
	size_t pos = L.priv_off + L.priv_len;
	/* walk back over padding and the comment */
	while (bin[pos - 1] != comment[strlen(comment) - 1])
		pos--;
	pos -= strlen(comment) + 4;      /* start of the comment string */
	bin[pos - 1] ^= 2;               /* q stays odd, n != p*q */
	expect_reject(bin, n, "inconsistent");
}

static void test_public_lines(void)
{
	struct sshkey *k = NULL;
	CHECK(key_from_public_line("", &k) != 0);
	CHECK(key_from_public_line("ssh-ed25519", &k) != 0);
	CHECK(key_from_public_line("ssh-ed25519 AAAA", &k) != 0);
	CHECK(key_from_public_line("ssh-ed25519 not*base64", &k) != 0);
	CHECK(key_from_public_line("ssh-dss AAAAB3NzaC1kc3MAAACBAP", &k) != 0);
	/* 32-byte ed25519 key padded to 31 bytes */
	CHECK(key_from_public_line(
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAHwLyPuGpfQd7WGaexugcFShxJAcbhjg/WKoLRRk0VJg", &k) != 0);
	enum key_type t;
	if (!HAVE_NIST) {
		printf("SKIPPED: ECDSA public lines (built with --disable-nist)\n");
		CHECK(key_type_from_name("ecdsa-sha2-nistp384", &t) != 0);
		CHECK(key_type_left_out("ecdsa-sha2-nistp384") != NULL);
		CHECK(key_from_public_line(fixtures[1].pub, &k) != 0);
		return;
	}
	CHECK(key_type_left_out("ecdsa-sha2-nistp384") == NULL);
	CHECK(key_type_left_out("ssh-ed25519") == NULL && key_type_left_out("ssh-dss") == NULL);
	/* an ECDSA point off the curve */
	char line[512];
	strcpy(line, fixtures[1].pub);
	char *b = strchr(line, ' ') + 1;
	size_t cap = 256;
	uint8_t blob[256];
	*strchr(b, ' ') = 0;
	CHECK(b64_decode(b, strlen(b), blob, &cap) == 0);
	CHECK(key_from_blob(blob, cap, &k) == 0);
	key_free(k);
	blob[cap - 1] ^= 1;
	CHECK(key_from_blob(blob, cap, &k) != 0);
	CHECK(key_type_from_name("ecdsa-sha2-nistp384", &t) == 0 && t == KEY_ECDSA_P384);
	CHECK(key_type_from_name("rsa-sha2-256", &t) != 0);
}

/* key_load_host: as key_load_private, but only a file private to root or
 * the effective user; the error names the file and the mode. */
static void test_host_key_permissions(void)
{
	char path[128], err[256];
	struct sshkey *k = NULL, *l = NULL;
	snprintf(path, sizeof(path), "%s/hostperm", tmpdir);
	CHECK(key_generate(KEY_ED25519, 0, &k) == 0);
	CHECK(key_save_private(k, path, "perm", err, sizeof(err)) == 0);
	CHECK(key_load_host(path, &l, err, sizeof(err)) == 0);
	key_free(l);
	l = NULL;
	static const mode_t bad[] = { 0640, 0604, 0620, 0602, 0660, 0644, 0610, 0601 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char mode[8];
		snprintf(mode, sizeof(mode), "%04o", (unsigned)bad[i]);
		CHECK(chmod(path, bad[i]) == 0);
		CHECK(key_load_host(path, &l, err, sizeof(err)) != 0 && l == NULL);
		CHECK(strstr(err, path) != NULL && strstr(err, mode) != NULL);
		/* the permissive loader (user keys, wombat-keygen) does not care */
		CHECK(key_load_private(path, &l, err, sizeof(err)) == 0);
		key_free(l);
		l = NULL;
	}
	CHECK(chmod(path, 0400) == 0);
	CHECK(key_load_host(path, &l, err, sizeof(err)) == 0);
	key_free(l);
	key_free(k);
	unlink(path);
	char pub[140];
	snprintf(pub, sizeof(pub), "%s.pub", path);
	unlink(pub);
}

int main(void)
{
	CHECK(crypto_init() == 0);
	strcpy(tmpdir, "/tmp/test_hostkey.XXXXXX");
	CHECK(mkdtemp(tmpdir) != NULL);
	test_base64();
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
		test_fixture(&fixtures[i]);
	test_generated(KEY_ED25519, 0);
	test_generated(KEY_ECDSA_P256, 0);
	test_generated(KEY_ECDSA_P384, 0);
	test_generated(KEY_ECDSA_P521, 0);
	test_generated(KEY_RSA, 2048);
	if (HAVE_RSA) {
		test_rsa_short_signature();
		test_ssh_rsa_verify();
	} else {
		printf("SKIPPED: RSA short signatures, ssh-rsa verification and malformed "
		       "RSA files (built with --disable-rsa)\n");
	}
	test_public_lines();
	test_malformed();
	if (HAVE_RSA)
		test_malformed_rsa();
	test_host_key_permissions();
	char path[128];
	snprintf(path, sizeof(path), "%s/k", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return UNIT_DONE();
}
