/* Unit tests for crypto/kexalg.c: both halves agree for every method,
 * known answers from an independent implementation (RFC 7748 for X25519,
 * python3-cryptography for ECDH and the MODP groups), and invalid peer
 * values are refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <tomcrypt.h>
#include <tommath.h>

#include "unit.h"
#include "build_opts.h"
#include "kexalg.h"
#ifndef WOMBAT_NO_PQ
#include "mlkem768.h"
#include "mlkem768_vectors.h"
#endif
#include "x25519.h"

/* Vectors from python3-cryptography (an independent implementation): a fixed
 * private value on our side, the peer's public value, and the expected K. */
static const struct kex_kat { enum kex_kind kind; const char *priv, *peer, *k; } kex_kats[] = {
	{ KEX_X25519, /* RFC 7748 section 6.1: Alice's key, Bob's public */
		"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
		"de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
		"4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742" },
	{ KEX_ECDH_P256,
		"00101d2a3744515e6b7885929facb9c6d3e0edfa0714212e3b4855626f7c899b",
		"04ab5cedd9be27adac221ea4158a40e66096db7631cd2d885eb6aad26b16a98a"
		"16d1038c022736ed7ddb568db7cc72e606a2d0f38a3b4443db8e23b91cdfad22"
		"04",
		"b2212b613d34f0f44e04aacb98fdeb07e458d0c6b09582069cfad29e7b73ea48" },
	{ KEX_ECDH_P384,
		"00101d2a3744515e6b7885929facb9c6d3e0edfa0714212e3b4855626f7c8996"
		"a3b0bdcad7e4f1fe0b1825323f4c596b",
		"046eb623e34c8b93c1f168026782d03d747e5dcb5d63fd2e690709d3885bfe94"
		"bc9612bbb36dde4df7646e1c2d8de0faa496379215ad23ffd5865c0d4164df4c"
		"fe6f46c59d5595c28b3869135130f1b3b87bcc6ec3235597f597652810bac41b"
		"46",
		"b613fa455d47bed1413ea6f37063be021c2152ef810facf2e9201fc394fba29b"
		"e321d72e4f914fbae552c4db3d2afb38" },
	{ KEX_ECDH_P521,
		"00101d2a3744515e6b7885929facb9c6d3e0edfa0714212e3b4855626f7c8996"
		"a3b0bdcad7e4f1fe0b1825323f4c596673808d9aa7b4c1cedbe8f5020f1c2936"
		"4355",
		"0401e74bae833687e97feb324922f69495649d12ad493147f3f8dbcbf0169bc7"
		"657c83d936ab7a22a757341577f4d67c350b9f7df39e08a21af61143d9791d59"
		"e6ccd200d05f818c6b87f03ffabb18d26ab005aab7b4092ac42a6e71dcbf6482"
		"fe9e66b45a43bff22ad89461e972836e4d5fbaa461c1f90153072f718aa96bcf"
		"e1ac1bbc40",
		"00841e8c60a84ea10373f2536005168393686e8753425e2903cee7540a568b27"
		"3d31dc391b371478505379a0dd5e2ff2c2dd7d099b2daedbd60e8aae60982dd3"
		"b00c" },
	{ KEX_DH14,
		"9105121f2c394653606d7a8794a1aebbc8d5e2effc091623303d4a5764717e8b"
		"98a5b2bfccd9e6f3000d1a2734414e5b6875828f9ca9b6c3d0ddeaf704111e2b",
		"24cba43080d1c90cca5897b607e216483788e78af38591b86d5482e3dcb578c6"
		"fbe446343f5e8c2e1034b8dcb58b65f5d8bed179237a99c375673ca21e0eefe9"
		"b49746248bdec41a2ebdf4fd7f61048c212eab9ed0f133bbf81976e4db6f3bbf"
		"e3ece8fec5bd8479da95a60557644b478adcdb6964a9fa83cbf019bd2b5a5980"
		"19a48bf4ac826dbbe1fe51de484440404ddcfc7c1d872619124914cdba4d6aba"
		"22fa1422aed4e9589e716b2a403d3ea4d3cb8b5b002c3ed9058c01cf89ddb302"
		"eaf7351a8279324f917258fd2295865f947f57399f2fb304fde777790a8e96b0"
		"28f63b286b38bd60f4c689064061c2a2487882bdef1b1cef589078596055a9c4",
		"a7ecbdafa13389c1766b01c2a55516791d6f786f54933a2944b8984d84989c3f"
		"e1ab3cb0809a89acf7a674a31ec9be7136893a1113ea64b6f94d29d5fd73ad99"
		"74e7c7352d6ae0e5089c9deba8c84eeee9212f1578adea0adf0a9c2760ee0508"
		"cc161174257a98b59bd2f5c671a350fb6b418c8735691abfd9126f73de12597a"
		"759c9d18df69e48bbda04ef4ef2c711dfaeee1671418250bbe7887381a9eaffd"
		"bc6ca4203709fa61695d248bbbdff2c4380ea624a1b70f625521c58230014396"
		"e6b7e0376c8f11264e39388a3c73d53dae6d252847bd44e5bebb7ab5aedf86b3"
		"449e9f8c5c51f677d9957bc096ebb43de92de498e8b6b4641ef672a8d83957dc" },
	{ KEX_DH16,
		"9105121f2c394653606d7a8794a1aebbc8d5e2effc091623303d4a5764717e8b"
		"98a5b2bfccd9e6f3000d1a2734414e5b6875828f9ca9b6c3d0ddeaf704111e2b",
		"b956b87c8485591fa38dca5554779a6e83e719e8f36c9f1423aa4217bc05bc61"
		"2c838c04e50bc4ebb5f4ea02d941d6966f6a5646f56a0f090b633bba32df6bf1"
		"6ac5a57f5eef891579041d8858a86a3151e83c2c036c7e8a3003d253db6182a0"
		"5b18f2b5f42394d0339d770f1626e30f4210738f7cb2dc4f83348fb72f66fc08"
		"a4ff412af9cc81d789608a8eb3c45c2762be222fbe8c9b412ed224486f12c712"
		"d5f30c865cbd5872a38741b03606eec1748c7b19e7ae3c9b7453eb2451e4aec7"
		"95dcbc8e2535f19e5284510c1735c6502c1bd3da38cc8bb9d720b942b3e49f20"
		"3e6acff8cd19b4c5e227fb93a284b300d1927080a7787a24c1d8bbc13c18cddb"
		"a16ffb1a4e001676fe70970967f86f998c9b09638e7e75016e9e0138829212ea"
		"b5cb2592568841145b6fab5b67b0087137b7c5b66827cb01f4767d682ac5747a"
		"dbf3a8a28044240a63f00da9333a8963a5149959b5435fc23c2e15b299b3fda0"
		"0721a4a09b054dde211078775565790a3950a190d8604ca008a947016c2663e8"
		"9cd72cb6f32708d19fe18514044a9dc43e5f9d18dd7a5dea6d0a23a33bd9e01a"
		"b491138e70d6eca0e979aa6abf8cb99ce21bb277146d903b37a2cd1fff43365d"
		"74a65394a1cad3839c0b9bbb83760429f45acff74ae9acae9ded28cc84f53926"
		"fd04ab2da0c46ede27121993e957c8ea3135b2c3393f305167fb2aa8da7de304",
		"f7180787dfc69e39716dcd0305f7563a4fd6b66ac973af96a9d16aa76c0484c0"
		"d84ca85d556e06e7c4e1491c53adf120f1b0939ddbf69ea4e805ea176d735ecb"
		"fdeb1491daa0432c629d592236bc0a82671fbf057180bb9597aa3313f2160322"
		"06d5cfee14488c0ff4fd65180750dc449b185364eb3bb71d9eb8975e86925c17"
		"0ab9de760b85418ec7685a1ee6889ae7750ba22bf8d8e7fc5430f009341f15f6"
		"459c6f323321674f0ac48acb11df8bcac7c8691a3c7007779aa6e77c9b594778"
		"4957815e9c096f47a0ee61f6becee5eb96ae64247f54dbd4b56bd64529b66e58"
		"c66008cd1b67a98a22c3ceed30d5eee731b2952a12537232603977fae6bc9a1b"
		"b6bb28ea5a440351001b4acd06b3b455f8f45eb8cacde0d4578ea9c628a1d33c"
		"0bdc3d4a4c55ee02d621e577076e3a66097fc9bff28d810747f33d89206f016d"
		"f322d775b4ac5541cd118d6392f0f5f0f4fea01ebd7403a9e570447fa1790ae9"
		"2d663e4568f8fe87ffd6fc20ca9d2428ac1a153f20473aee8a56f5a9e4322128"
		"0006a83e3f357bb563c06b9dbdd4d63f7e8b91c87c7601543fa0f25094fc713d"
		"7d4a21f6c494abb7edd81bd1515e78b2758e619362d2a008c40ee463e00ed93c"
		"c24bc954a558e85e80073706088f8bb3a1b9684fcf325d4420920a520162b788"
		"4f4b3014ca2ca1bba0c947492dfa0b225c75b690a50d8857c4ad7bcc4bb285cc" },
};
/* Our side's public points for the ECDH entries (P-256, P-384, P-521). */
static const char *const ecdh_own_pub[] = {
		"0420451bab6dfcb3497404a7ec9ea3e6f599c596a1c79c9f198bc4286f51fc2d"
		"7b29a35cb8bbd22ec643a4ef92c9dcaa30ba304408016fd8d07bb7caf45c3c82"
		"f0",
		"04abf37d909f2dd79a7697f50186024e13273fff11001a964e16fedfaedd3cc8"
		"d3cc969df6b00228dc99774b8ad386b1c105fd8c24ddf63622387f49fe6bd972"
		"3b1dd1cdda7737b490c3fd7139cbe82e3734f24b3d943e87af1e54c12d2781f7"
		"9b",
		"0400ec8cf1ad154311e062bc02384d7302fbcfda56dfe408a6c0eff7f498db7a"
		"bf4c31755134082875ba79bd7724ee87bfb3822e14e87302da6346cf8a31c3e3"
		"98fe86004d24a2616924247c8be9194e2e2e0ad943723411a5bb5f2306497b2a"
		"c37fa1ab60506d803f21fbea3eb0998a76edb668d1fb794b8483b1f74713f109"
		"7ad68f4552",
};

/* RFC 3526 primes, for the range checks. */
static const char p14_hex[] =
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
	"020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
	"4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
	"98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
	"9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
	"E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
	"3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF";
static const char p16_hex[] =
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
	"020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
	"4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
	"98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
	"9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
	"E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
	"3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33"
	"A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
	"ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864"
	"D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
	"08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7"
	"88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8"
	"DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2"
	"233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9"
	"93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C934063199FFFFFFFFFFFFFFFF";

/* RFC 3526 section 7 (checked against python3-asyncssh's copy in
 * test_crypto_crosscheck.py). */
static const char p18_hex[] =
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
	"020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
	"4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
	"98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
	"9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
	"E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
	"3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33"
	"A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
	"ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864"
	"D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
	"08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7"
	"88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8"
	"DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2"
	"233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9"
	"93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C93402849236C3FAB4D27C7026"
	"C1D4DCB2602646DEC9751E763DBA37BDF8FF9406AD9E530EE5DB382F413001AE"
	"B06A53ED9027D831179727B0865A8918DA3EDBEBCF9B14ED44CE6CBACED4BB1B"
	"DB7F1447E6CC254B332051512BD7AF426FB8F401378CD2BF5983CA01C64B92EC"
	"F032EA15D1721D03F482D7CE6E74FEF6D55E702F46980C82B5A84031900B1C9E"
	"59E7C97FBEC7E8F323A97A7E36CC88BE0F1D45B7FF585AC54BD407B22B4154AA"
	"CC8F6D7EBF48E1D814CC5ED20F8037E0A79715EEF29BE32806A1D58BB7C5DA76"
	"F550AA3D8A1FBFF0EB19CCB1A313D55CDA56C9EC2EF29632387FE8D76E3C0468"
	"043E8F663F4860EE12BF2D5B0B7474D6E694F91E6DBE115974A3926F12FEE5E4"
	"38777CB6A932DF8CD8BEC4D073B931BA3BC832B68D9DD300741FA7BF8AFC47ED"
	"2576F6936BA424663AAB639C5AE4F5683423B4742BF1C978238F16CBE39D652D"
	"E3FDB8BEFC848AD922222E04A4037C0713EB57A81A23F0C73473FC646CEA306B"
	"4BCBC8862F8385DDFA9D4B7FA2C087E879683303ED5BDD3A062B3CF5B3A278A6"
	"6D2A13F83F44F82DDF310EE074AB6A364597E899A0255DC164F31CC50846851D"
	"F9AB48195DED7EA1B1D510BD7EE74D73FAF36BC31ECFA268359046F4EB879F92"
	"4009438B481C6CD7889A002ED5EE382BC9190DA6FC026E479558E4475677E9AA"
	"9E3050E2765694DFC81F56E880B96E7160C980DD98EDD3DFFFFFFFFFFFFFFFFF";

static const enum kex_kind all_kinds[] = {
	KEX_X25519, KEX_ECDH_P256, KEX_ECDH_P384, KEX_ECDH_P521, KEX_DH14, KEX_DH16,
	KEX_DH18
};

static size_t expect_shared_len(enum kex_kind k)
{
	switch (k) {
	case KEX_X25519: case KEX_ECDH_P256: return 32;
	case KEX_ECDH_P384: return 48;
	case KEX_ECDH_P521: return 66;
	default: return 0;      /* DH: a magnitude, varies */
	}
}

/* Is kind k in this build (not left out by --disable-nist, --disable-dh)? */
static int kind_built(enum kex_kind k)
{
	if (k >= KEX_ECDH_P256 && k <= KEX_ECDH_P521)
		return HAVE_NIST;
	return kexalg_is_dh(k) ? HAVE_DH : 1;
}

/* A left-out kind: its name is not negotiable and both halves refuse it. */
static void check_left_out(enum kex_kind k, const char *name)
{
	uint8_t state[KEXALG_STATE_MAX], pub[2048], spub[2048], ks[1100];
	size_t pl = sizeof pub, sl = sizeof spub, kl = sizeof ks;
	printf("SKIPPED: %s (left out of this build:%s); checking it is refused\n", name,
	       FEATURES_LEFT_OUT);
	CHECK(kexalg_lookup(name, NULL, NULL) == -1);
	memset(pub, 7, sizeof pub);
	CHECK(kexalg_client_start(k, state, pub, &pl) == -1);
	CHECK(kexalg_server(k, pub, 65, spub, &sl, ks, &kl) == -1);
}

static void test_left_out_lookup(void)
{
	static const struct { enum kex_kind k; const char *name; } named[] = {
		{ KEX_ECDH_P256, "ecdh-sha2-nistp256" }, { KEX_ECDH_P384, "ecdh-sha2-nistp384" },
		{ KEX_ECDH_P521, "ecdh-sha2-nistp521" },
		{ KEX_DH14, "diffie-hellman-group14-sha256" },
		{ KEX_DH16, "diffie-hellman-group16-sha512" },
		{ KEX_DH18, "diffie-hellman-group18-sha512" },
		{ KEX_DH_GEX, "diffie-hellman-group-exchange-sha256" },
	};
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
		if (!kind_built(named[i].k))
			check_left_out(named[i].k, named[i].name);
}

static void test_lookup(void)
{
	enum kex_kind k;
	enum hash_alg h;
	CHECK(kexalg_lookup("curve25519-sha256", &k, &h) == 0 && k == KEX_X25519 && h == HASH_SHA256);
	CHECK(kexalg_lookup("curve25519-sha256@libssh.org", &k, &h) == 0 && k == KEX_X25519);
	if (!HAVE_NIST || !HAVE_DH) {
		test_left_out_lookup();
		return;
	}
	CHECK(kexalg_lookup("ecdh-sha2-nistp256", &k, &h) == 0 && k == KEX_ECDH_P256 && h == HASH_SHA256);
	CHECK(kexalg_lookup("ecdh-sha2-nistp384", &k, &h) == 0 && k == KEX_ECDH_P384 && h == HASH_SHA384);
	CHECK(kexalg_lookup("ecdh-sha2-nistp521", &k, &h) == 0 && k == KEX_ECDH_P521 && h == HASH_SHA512);
	CHECK(kexalg_lookup("diffie-hellman-group14-sha256", &k, &h) == 0 && k == KEX_DH14 && h == HASH_SHA256);
	CHECK(kexalg_lookup("diffie-hellman-group16-sha512", &k, &h) == 0 && k == KEX_DH16 && h == HASH_SHA512);
	CHECK(kexalg_lookup("diffie-hellman-group18-sha512", &k, &h) == 0 && k == KEX_DH18 && h == HASH_SHA512);
	CHECK(kexalg_lookup("diffie-hellman-group-exchange-sha256", &k, &h) == 0 &&
	      k == KEX_DH_GEX && h == HASH_SHA256);
	CHECK(kexalg_is_dh(KEX_DH18) && kexalg_is_dh(KEX_DH_GEX));
	CHECK(kexalg_lookup("diffie-hellman-group-exchange-sha1", &k, &h) == -1);
	CHECK(kexalg_lookup("diffie-hellman-group1-sha1", &k, &h) == -1);
	CHECK(kexalg_lookup("", &k, &h) == -1);
	CHECK(kexalg_is_dh(KEX_DH14) && kexalg_is_dh(KEX_DH16));
	CHECK(!kexalg_is_dh(KEX_X25519) && !kexalg_is_dh(KEX_ECDH_P521));
#ifndef WOMBAT_NO_PQ
	CHECK(kexalg_lookup("mlkem768x25519-sha256", &k, &h) == 0 &&
	      k == KEX_MLKEM768X25519 && h == HASH_SHA256);
#else   /* --disable-pq: the hybrids' names are not negotiable */
	CHECK(kexalg_lookup("mlkem768x25519-sha256", &k, &h) == -1);
	CHECK(kexalg_lookup("sntrup761x25519-sha512", &k, &h) == -1);
	CHECK(kexalg_lookup("sntrup761x25519-sha512@openssh.com", &k, &h) == -1);
#endif
	CHECK(kexalg_k_is_string(KEX_MLKEM768X25519) && !kexalg_is_dh(KEX_MLKEM768X25519));
	for (enum kex_kind o = KEX_X25519; o <= KEX_DH16; o++)
		CHECK(!kexalg_k_is_string(o));
}

#ifndef WOMBAT_NO_PQ
/* mlkem768x25519-sha256: sizes, agreement, the noble/X25519 known answer,
 * and every invalid input refused. */
#define HY_C (MLKEM768_EK_LEN + 32)
#define HY_S (MLKEM768_CT_LEN + 32)

static void test_hybrid_agreement(void)
{
	for (int round = 0; round < 5; round++) {
		static uint8_t state[KEXALG_STATE_MAX], cpub[2048], spub[2048];
		uint8_t ks[512], kc[512];
		size_t cl = sizeof cpub, sl = sizeof spub, ksl = sizeof ks, kcl = sizeof kc;
		CHECK(kexalg_client_start(KEX_MLKEM768X25519, state, cpub, &cl) == 0);
		CHECK(cl == HY_C);
		CHECK(kexalg_server(KEX_MLKEM768X25519, cpub, cl, spub, &sl, ks, &ksl) == 0);
		CHECK(sl == HY_S && ksl == 32);
		CHECK(kexalg_client_finish(KEX_MLKEM768X25519, state, spub, sl, kc, &kcl) == 0);
		CHECK(kcl == 32 && memcmp(ks, kc, 32) == 0);
	}
}

static void test_hybrid_known_answer(void)
{
	static uint8_t state[KEXALG_STATE_MAX], ek[MLKEM768_EK_LEN], reply[HY_S],
		cinit[HY_C];
	uint8_t d[32], z[32], xc[32], want[32], got[64], h[32];
	size_t gl = sizeof got;

	unit_unhex(hybrid_d, d, 32);
	unit_unhex(hybrid_z, z, 32);
	unit_unhex(hybrid_xc, xc, 32);
	CHECK(unit_unhex(hybrid_s_reply, reply, sizeof reply) == HY_S);
	unit_unhex(hybrid_k, want, 32);
	/* state layout: kind, ML-KEM decapsulation key, X25519 scalar */
	state[0] = KEX_MLKEM768X25519;
	mlkem768_keygen_derand(ek, state + 1, d, z);
	memcpy(state + 1 + MLKEM768_DK_LEN, xc, 32);
	memcpy(cinit, ek, sizeof ek);                       /* C_INIT = ek || X25519 */
	x25519_base(cinit + MLKEM768_EK_LEN, xc);
	hash_mem(HASH_SHA256, cinit, sizeof cinit, h);
	unit_unhex(hybrid_c_init_sha256, want, 32);
	CHECK_MEM(h, want, 32);
	unit_unhex(hybrid_k, want, 32);
	CHECK(kexalg_client_finish(KEX_MLKEM768X25519, state, reply, sizeof reply, got, &gl) == 0);
	CHECK(gl == 32);
	CHECK_MEM(got, want, 32);
}

static int hybrid_server_rejects(const uint8_t *pub, size_t len)
{
	static uint8_t spub[2048];
	uint8_t ks[512];
	size_t sl = sizeof spub, kl = sizeof ks;
	return kexalg_server(KEX_MLKEM768X25519, pub, len, spub, &sl, ks, &kl) == -1;
}

static void test_hybrid_rejects(void)
{
	static uint8_t state[KEXALG_STATE_MAX], cpub[2048], bad[2048], spub[2048];
	uint8_t ks[512];
	size_t cl = sizeof cpub, sl, kl;

	CHECK(kexalg_client_start(KEX_MLKEM768X25519, state, cpub, &cl) == 0);
	CHECK(!hybrid_server_rejects(cpub, cl));
	CHECK(hybrid_server_rejects(cpub, cl - 1));
	CHECK(hybrid_server_rejects(cpub, 32));           /* a plain X25519 value */
	memcpy(bad, cpub, cl);
	bad[cl] = 0;
	CHECK(hybrid_server_rejects(bad, cl + 1));
	memcpy(bad, cpub, cl);                        /* coefficient 0 = q = 3329 */
	bad[0] = 0x01;
	bad[1] = (uint8_t)((bad[1] & 0xf0) | 0x0d);
	CHECK(hybrid_server_rejects(bad, cl));
	memcpy(bad, cpub, cl);                        /* X25519 u = 0: all-zero K_CL */
	memset(bad + MLKEM768_EK_LEN, 0, 32);
	CHECK(hybrid_server_rejects(bad, cl));
	bad[MLKEM768_EK_LEN] = 1;                     /* u = 1 */
	CHECK(hybrid_server_rejects(bad, cl));
	/* too little room for S_REPLY or K */
	sl = HY_S - 1;
	kl = sizeof ks;
	CHECK(kexalg_server(KEX_MLKEM768X25519, cpub, cl, spub, &sl, ks, &kl) == -1);
	sl = sizeof spub;
	kl = 31;
	CHECK(kexalg_server(KEX_MLKEM768X25519, cpub, cl, spub, &sl, ks, &kl) == -1);
	/* the client refuses a reply of the wrong size or with a low-order point */
	sl = sizeof spub;
	kl = sizeof ks;
	CHECK(kexalg_server(KEX_MLKEM768X25519, cpub, cl, spub, &sl, ks, &kl) == 0);
	uint8_t st2[KEXALG_STATE_MAX];
	memcpy(st2, state, sizeof st2);
	kl = sizeof ks;
	CHECK(kexalg_client_finish(KEX_MLKEM768X25519, st2, spub, sl - 1, ks, &kl) == -1);
	memcpy(st2, state, sizeof st2);
	memset(spub + MLKEM768_CT_LEN, 0, 32);
	kl = sizeof ks;
	CHECK(kexalg_client_finish(KEX_MLKEM768X25519, st2, spub, sl, ks, &kl) == -1);
	/* an altered ciphertext is not an error (implicit rejection): K differs */
	uint8_t k1[64], k2[64];
	size_t k1l = sizeof k1, k2l = sizeof k2;
	cl = sizeof cpub;
	CHECK(kexalg_client_start(KEX_MLKEM768X25519, state, cpub, &cl) == 0);
	sl = sizeof spub;
	CHECK(kexalg_server(KEX_MLKEM768X25519, cpub, cl, spub, &sl, k1, &k1l) == 0);
	spub[100] ^= 1;
	CHECK(kexalg_client_finish(KEX_MLKEM768X25519, state, spub, sl, k2, &k2l) == 0);
	CHECK(k2l == 32 && memcmp(k1, k2, 32) != 0);
}
#endif /* WOMBAT_NO_PQ */

static void test_agreement(void)
{
	for (size_t i = 0; i < sizeof all_kinds / sizeof all_kinds[0]; i++) {
		enum kex_kind k = all_kinds[i];
		for (int round = 0; round < 3 && kind_built(k); round++) {
			uint8_t state[KEXALG_STATE_MAX], cpub[2048], spub[2048], ks[1100], kc[1100];
			size_t cl = sizeof cpub, sl = sizeof spub, ksl = sizeof ks, kcl = sizeof kc;
			CHECK(kexalg_client_start(k, state, cpub, &cl) == 0);
			CHECK(kexalg_server(k, cpub, cl, spub, &sl, ks, &ksl) == 0);
			CHECK(kexalg_client_finish(k, state, spub, sl, kc, &kcl) == 0);
			CHECK(ksl == kcl && memcmp(ks, kc, ksl) == 0);
			if (expect_shared_len(k))
				CHECK(ksl == expect_shared_len(k));
			else
				CHECK(ksl > 200 && ks[0] != 0);   /* magnitude, no leading zero */
			if (k >= KEX_ECDH_P256 && k <= KEX_ECDH_P521)
				CHECK(sl == 1 + 2 * expect_shared_len(k) && spub[0] == 4);
			if (k == KEX_X25519)
				CHECK(sl == 32 && cl == 32);
		}
	}
}

static const ltc_ecc_set_type *curve_by_size(int size)
{
	for (int i = 0; ltc_ecc_sets[i].size; i++)
		if (ltc_ecc_sets[i].size == size)
			return &ltc_ecc_sets[i];
	return NULL;
}

/* Builds the client state by hand (its layout: kind byte, then the
 * X25519 scalar / libtomcrypt ecc_key / 64-byte DH exponent) so that a
 * fixed private value can be checked against the vectors. */
static void test_known_answers(void)
{
	int ecdh_i = 0;
	for (size_t i = 0; i < sizeof kex_kats / sizeof kex_kats[0]; i++) {
		const struct kex_kat *v = &kex_kats[i];
		uint8_t state[KEXALG_STATE_MAX], priv[128], peer[1024], want[512], got[512];
		size_t pl = unit_unhex(v->priv, priv, sizeof priv);
		size_t peerl = unit_unhex(v->peer, peer, sizeof peer);
		size_t wl = unit_unhex(v->k, want, sizeof want), gl = sizeof got;

		if (!kind_built(v->kind))
			continue;       /* test_left_out_lookup says so */
		memset(state, 0, sizeof state);
		state[0] = (uint8_t)v->kind;
		if (v->kind >= KEX_ECDH_P256 && v->kind <= KEX_ECDH_P521) {
			uint8_t own[200];
			size_t ol = unit_unhex(ecdh_own_pub[ecdh_i++], own, sizeof own);
			ecc_key key;
			const ltc_ecc_set_type *dp = curve_by_size((int)pl);
			CHECK(dp != NULL);
			CHECK(ecc_ansi_x963_import_ex(own, ol, &key, (ltc_ecc_set_type *)dp) == CRYPT_OK);
			CHECK(mp_from_ubin((mp_int *)key.k, priv, pl) == MP_OKAY);
			key.type = PK_PRIVATE;
			memcpy(state + 1, &key, sizeof key);
		} else {
			memcpy(state + 1, priv, pl);
		}
		CHECK(kexalg_client_finish(v->kind, state, peer, peerl, got, &gl) == 0);
		CHECK(gl == wl);
		CHECK_MEM(got, want, wl);
	}
}

static int server_rejects(enum kex_kind k, const uint8_t *pub, size_t len)
{
	uint8_t spub[1100], ks[1100];
	size_t sl = sizeof spub, kl = sizeof ks;
	return kexalg_server(k, pub, len, spub, &sl, ks, &kl) == -1;
}

static void test_x25519_rejects(void)
{
	uint8_t pt[33] = { 0 };
	CHECK(server_rejects(KEX_X25519, pt, 32));     /* u = 0: low order */
	pt[0] = 1;
	CHECK(server_rejects(KEX_X25519, pt, 32));     /* u = 1: low order */
	uint8_t state[KEXALG_STATE_MAX], pub[64];
	size_t pl = sizeof pub;
	CHECK(kexalg_client_start(KEX_X25519, state, pub, &pl) == 0);
	CHECK(server_rejects(KEX_X25519, pub, 31));
	CHECK(!server_rejects(KEX_X25519, pub, 32));
	memcpy(pt, pub, 32);
	CHECK(server_rejects(KEX_X25519, pt, 33));
	CHECK(server_rejects(KEX_X25519, pub, 0));
}

static void test_ecdh_rejects(void)
{
	for (enum kex_kind k = KEX_ECDH_P256; k <= KEX_ECDH_P521; k++) {
		uint8_t state[KEXALG_STATE_MAX], pub[1024], bad[1024];
		size_t pl = sizeof pub;
		size_t sz = expect_shared_len(k);
		CHECK(kexalg_client_start(k, state, pub, &pl) == 0);
		CHECK(pl == 1 + 2 * sz);
		CHECK(!server_rejects(k, pub, pl));

		memcpy(bad, pub, pl);
		bad[pl - 1] ^= 1;                          /* y off by one: off curve */
		CHECK(server_rejects(k, bad, pl));
		memcpy(bad, pub, pl);
		bad[sz] ^= 0x10;                           /* x changed */
		CHECK(server_rejects(k, bad, pl));
		memcpy(bad, pub, pl);
		bad[0] = 0x02;                             /* compressed form */
		CHECK(server_rejects(k, bad, pl));
		CHECK(server_rejects(k, pub, pl - 1));     /* short */
		memcpy(bad, pub, pl);
		bad[pl] = 0;
		CHECK(server_rejects(k, bad, pl + 1));     /* long */
		memset(bad, 0, pl);
		bad[0] = 4;
		CHECK(server_rejects(k, bad, pl));         /* (0, 0) */
		memset(bad + 1, 0xff, pl - 1);
		CHECK(server_rejects(k, bad, pl));         /* coordinates >= p */
		/* a valid point of another curve */
		enum kex_kind other = k == KEX_ECDH_P256 ? KEX_ECDH_P384 : KEX_ECDH_P256;
		uint8_t st2[KEXALG_STATE_MAX], opub[1024];
		size_t ol = sizeof opub;
		CHECK(kexalg_client_start(other, st2, opub, &ol) == 0);
		CHECK(server_rejects(k, opub, ol));
		uint8_t k1[512];
		size_t k1l = sizeof k1;
		CHECK(kexalg_client_finish(other, st2, pub, pl, k1, &k1l) == -1);
		k1l = sizeof k1;
		CHECK(kexalg_client_finish(k, state, bad, pl, k1, &k1l) == -1);
	}
}

static void test_dh_rejects(void)
{
	static const char *const primes[] = { p14_hex, p16_hex, p18_hex };
	static const enum kex_kind kinds[] = { KEX_DH14, KEX_DH16, KEX_DH18 };
	static const size_t lens[] = { 256, 512, 1024 };
	for (int g = 0; g < 3; g++) {
		enum kex_kind k = kinds[g];
		uint8_t p[1025], v[1026];
		size_t plen = unit_unhex(primes[g], p, sizeof p);
		CHECK(plen == lens[g]);

		v[0] = 0;
		CHECK(server_rejects(k, v, 1));            /* e = 0 */
		v[0] = 1;
		CHECK(server_rejects(k, v, 1));            /* e = 1 */
		v[0] = 2;
		CHECK(!server_rejects(k, v, 1));           /* e = 2 is allowed */
		CHECK(server_rejects(k, v, 0));            /* empty */
		memcpy(v, p, plen);
		CHECK(server_rejects(k, v, plen));         /* e = p */
		v[plen - 1] -= 1;
		CHECK(server_rejects(k, v, plen));         /* e = p - 1 */
		v[plen - 1] -= 1;
		CHECK(!server_rejects(k, v, plen));        /* e = p - 2 */
		memcpy(v, p, plen);
		for (size_t j = plen; j-- > 0 && ++v[j] == 0;)
			;                                  /* e = p + 1 */
		CHECK(server_rejects(k, v, plen));
		memset(v, 0xff, plen);
		CHECK(server_rejects(k, v, plen));         /* > p */
		v[0] = 0;
		memcpy(v + 1, p, plen);
		v[plen] -= 2;
		CHECK(!server_rejects(k, v, plen + 1));    /* p - 2 with a zero byte */
		CHECK(server_rejects(k, v, plen + 2));     /* too long */

		/* the client side refuses an invalid f the same way */
		uint8_t state[KEXALG_STATE_MAX], f[1100];
		size_t fl = sizeof f;
		CHECK(kexalg_client_start(k, state, f, &fl) == 0);
		CHECK(fl <= plen);
		uint8_t kk[1100];
		size_t kl = sizeof kk;
		v[0] = 1;
		CHECK(kexalg_client_finish(k, state, v, 1, kk, &kl) == -1);
	}
}

static void test_capacity(void)
{
	uint8_t state[KEXALG_STATE_MAX], cpub[1024], spub[1024], ks[512];
	size_t cl = sizeof cpub, sl = 10, kl = sizeof ks;
	if (!HAVE_NIST || !HAVE_DH) {
		printf("SKIPPED: capacity checks of DH and ECDH (left out of this build:%s)\n",
		       FEATURES_LEFT_OUT);
		return;
	}
	CHECK(kexalg_client_start(KEX_DH14, state, cpub, &cl) == 0);
	CHECK(kexalg_server(KEX_DH14, cpub, cl, spub, &sl, ks, &kl) == -1);
	cl = sizeof cpub;
	CHECK(kexalg_client_start(KEX_ECDH_P256, state, cpub, &cl) == 0);
	sl = sizeof spub;
	kl = 16;
	CHECK(kexalg_server(KEX_ECDH_P256, cpub, cl, spub, &sl, ks, &kl) == -1);
	CHECK(kexalg_client_finish(KEX_ECDH_P256, state, cpub, cl, ks, &kl) == -1);
	kl = sizeof ks;   /* finish frees the key; with room it succeeds */
	CHECK(kexalg_client_start(KEX_ECDH_P256, state, cpub, &cl) == 0);
	CHECK(kexalg_client_finish(KEX_ECDH_P256, state, cpub, cl, ks, &kl) == 0 && kl == 32);
}

/* A group as group exchange hands it over, from hex. */
static void make_group(struct dh_group *g, const char *hex, uint32_t gen)
{
	memset(g, 0, sizeof *g);
	g->p_len = unit_unhex(hex, g->p, sizeof g->p);
	g->bits = (unsigned)g->p_len * 8;
	g->g = gen;
}

/* kexalg_group_*: agreement in a given group, the same peer checks as the
 * fixed groups, and groups that are not sane refused. */
static void test_group_exchange_math(void)
{
	struct dh_group g;
	uint8_t state[KEXALG_STATE_MAX], cpub[1100], spub[1100], ks[1100], kc[1100];
	size_t cl, sl, ksl, kcl;

	make_group(&g, p16_hex, 2);
	for (int round = 0; round < 2; round++) {
		cl = sl = ksl = kcl = sizeof cpub;
		CHECK(kexalg_group_client_start(&g, state, cpub, &cl) == 0);
		CHECK(kexalg_group_server(&g, cpub, cl, spub, &sl, ks, &ksl) == 0);
		CHECK(kexalg_group_client_finish(&g, state, spub, sl, kc, &kcl) == 0);
		CHECK(ksl == kcl && memcmp(ks, kc, ksl) == 0 && ksl > 400);
	}
	/* generator 5 (moduli files carry some) */
	make_group(&g, p14_hex, 5);
	cl = sl = ksl = kcl = sizeof cpub;
	CHECK(kexalg_group_client_start(&g, state, cpub, &cl) == 0);
	CHECK(kexalg_group_server(&g, cpub, cl, spub, &sl, ks, &ksl) == 0);
	CHECK(kexalg_group_client_finish(&g, state, spub, sl, kc, &kcl) == 0);
	CHECK(ksl == kcl && memcmp(ks, kc, ksl) == 0);
	/* e = 1 and e = p - 1 refused */
	uint8_t v[257];
	v[0] = 1;
	ksl = sl = sizeof ks;
	CHECK(kexalg_group_server(&g, v, 1, spub, &sl, ks, &ksl) == -1);
	memcpy(v, g.p, g.p_len);
	v[g.p_len - 1] -= 1;
	CHECK(kexalg_group_server(&g, v, g.p_len, spub, &sl, ks, &ksl) == -1);
	/* not sane: g = 1, even p, wrong bit count, too small */
	cl = sizeof cpub;
	g.g = 1;
	CHECK(kexalg_group_client_start(&g, state, cpub, &cl) == -1);
	make_group(&g, p14_hex, 2);
	g.p[g.p_len - 1] ^= 1;
	CHECK(kexalg_group_server(&g, cpub, 32, spub, &sl, ks, &ksl) == -1);
	make_group(&g, p14_hex, 2);
	g.bits = 2047;
	CHECK(kexalg_group_server(&g, cpub, 32, spub, &sl, ks, &ksl) == -1);
	make_group(&g, p14_hex + 2 * 128, 2);       /* the low 1024 bits: odd, too small */
	CHECK(g.p_len == 128);
	CHECK(kexalg_group_server(&g, cpub, 32, spub, &sl, ks, &ksl) == -1);
	/* the fixed-group entry point has no group for group exchange */
	CHECK(kexalg_server(KEX_DH_GEX, cpub, 32, spub, &sl, ks, &ksl) == -1);
}

int main(void)
{
	CHECK(crypto_init() == 0);
	test_lookup();
	test_agreement();
	test_known_answers();
	test_x25519_rejects();
	if (HAVE_NIST)
		test_ecdh_rejects();
	else
		printf("SKIPPED: ECDH rejects (built with --disable-nist)\n");
	if (HAVE_DH)
		test_dh_rejects();
	else
		printf("SKIPPED: DH rejects (built with --disable-dh)\n");
	test_capacity();
#ifndef WOMBAT_NO_PQ
	test_hybrid_agreement();
	test_hybrid_known_answer();
	test_hybrid_rejects();
#else
	printf("SKIPPED: mlkem768x25519 agreement, known answer and rejects "
	       "(built with --disable-pq)\n");
#endif
	if (HAVE_DH) {
		test_group_exchange_math();
	} else {
		struct dh_group g = { .p = { 0xff }, .p_len = 256, .bits = 2048, .g = 2 };
		uint8_t state[KEXALG_STATE_MAX], pub[1100];
		size_t pl = sizeof pub;
		printf("SKIPPED: group exchange math (built with --disable-dh); checking it is refused\n");
		CHECK(kexalg_group_client_start(&g, state, pub, &pl) == -1);
	}
	return UNIT_DONE();
}
