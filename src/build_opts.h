/* build_opts: the parts ./configure can leave out of a build (--disable-rsa,
 * --disable-nist, --disable-dh, --disable-zlib, --disable-pq,
 * --disable-aes, --disable-forwarding), as 0/1
 * constants. The code tests them in ordinary `if`s at the one place each
 * part is dispatched (a key type's branch, a key exchange's case), so a
 * left-out part is still compiled and type-checked in every build; the
 * optimiser drops its code and the link drops the library calls it made.
 * Name lists (what is offered, what is only "known") are built from the
 * same switches. */
#ifndef WOMBAT_BUILD_OPTS_H
#define WOMBAT_BUILD_OPTS_H

#ifdef WOMBAT_NO_RSA
#define HAVE_RSA 0
#define LEFT_OUT_RSA " rsa"
#else
#define HAVE_RSA 1
#define LEFT_OUT_RSA ""
#endif

#ifdef WOMBAT_NO_NIST
#define HAVE_NIST 0
#define LEFT_OUT_NIST " nist"
#else
#define HAVE_NIST 1
#define LEFT_OUT_NIST ""
#endif

#ifdef WOMBAT_NO_DH
#define HAVE_DH 0
#define LEFT_OUT_DH " dh"
#else
#define HAVE_DH 1
#define LEFT_OUT_DH ""
#endif

#ifdef WOMBAT_NO_ZLIB
#define HAVE_ZLIB 0
#define LEFT_OUT_ZLIB " zlib"
#else
#define HAVE_ZLIB 1
#define LEFT_OUT_ZLIB ""
#endif

#ifdef WOMBAT_NO_AES
#define HAVE_AES 0
#define LEFT_OUT_AES " aes"
#else
#define HAVE_AES 1
#define LEFT_OUT_AES ""
#endif

#ifdef WOMBAT_NO_FORWARDING
#define HAVE_FORWARDING 0
#define LEFT_OUT_FORWARDING " forwarding"
#else
#define HAVE_FORWARDING 1
#define LEFT_OUT_FORWARDING ""
#endif

#ifdef WOMBAT_NO_PQ
#define LEFT_OUT_PQ " pq"
#else
#define LEFT_OUT_PQ ""
#endif

/* " rsa nist dh zlib pq" for what this build left out, "" for none */
#define FEATURES_LEFT_OUT LEFT_OUT_RSA LEFT_OUT_NIST LEFT_OUT_DH LEFT_OUT_ZLIB LEFT_OUT_PQ \
	LEFT_OUT_AES LEFT_OUT_FORWARDING

/* Signature algorithms of the key types: each group with a leading comma. */
#define KEYALGS_NIST_NAMES ",ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521"
#define KEYALGS_RSA_NAMES ",rsa-sha2-512,rsa-sha2-256"
#if HAVE_NIST
#define KEYALGS_NIST_BUILT KEYALGS_NIST_NAMES
#define KEYALGS_NIST_LEFT_OUT ""
#else
#define KEYALGS_NIST_BUILT ""
#define KEYALGS_NIST_LEFT_OUT KEYALGS_NIST_NAMES
#endif
#if HAVE_RSA
#define KEYALGS_RSA_BUILT KEYALGS_RSA_NAMES
#define KEYALGS_RSA_LEFT_OUT ""
#else
#define KEYALGS_RSA_BUILT ""
#define KEYALGS_RSA_LEFT_OUT KEYALGS_RSA_NAMES
#endif
/* Every signature algorithm this build can make or check, in preference
 * order; and those of the left-out key types (",..." or ""). */
#define KEYALGS_BUILT "ssh-ed25519" KEYALGS_NIST_BUILT KEYALGS_RSA_BUILT
#define KEYALGS_LEFT_OUT KEYALGS_NIST_LEFT_OUT KEYALGS_RSA_LEFT_OUT

/* Key exchanges of the optional groups, each with a leading comma. */
#define KEX_NIST_NAMES ",ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521"
#define KEX_DH_NAMES ",diffie-hellman-group14-sha256,diffie-hellman-group16-sha512," \
	"diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha256"
#if HAVE_NIST
#define KEX_NIST_BUILT KEX_NIST_NAMES
#define KEX_NIST_LEFT_OUT ""
#else
#define KEX_NIST_BUILT ""
#define KEX_NIST_LEFT_OUT KEX_NIST_NAMES
#endif
#if HAVE_DH
#define KEX_DH_BUILT KEX_DH_NAMES
#define KEX_DH_LEFT_OUT ""
#else
#define KEX_DH_BUILT ""
#define KEX_DH_LEFT_OUT KEX_DH_NAMES
#endif

#endif
