"""Cross-check our X25519, Ed25519, AES-CTR, AES-GCM, ChaCha20, Poly1305 and SHA-256
against python3-cryptography (OpenSSL) and hashlib; the Diffie-Hellman groups against
python3-asyncssh's RFC 3526 copies and OpenSSL's primality test.

tests/unit/test_curve25519, test_aes, test_chacha, test_sha256 and test_sha512 --dump N SEED print
pseudo-random inputs with our outputs; every line must match what the
independent implementation computes. AES, ChaCha20 and SHA-256 run twice: on the
portable code (WOMBAT_CRYPTO=portable) and on what the CPU selects (AES-NI,
SSE2/AVX2, SHA extensions here; Poly1305's AVX2 code for long messages). This test builds nothing: run `make tests/unit/test_curve25519
tests/unit/test_aes tests/unit/test_chacha tests/unit/test_sha256 tests/unit/test_sha512` first.
"""
import os
import random
import re
import subprocess
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey, Ed25519PublicKey)
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey, X25519PublicKey)
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.poly1305 import Poly1305
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from conftest import REPO, built

BINARY = Path(built("tests", "unit", "test_curve25519"))
COUNT = 200


def dump_lines(seed):
    if not BINARY.exists():
        pytest.fail(f"{BINARY} is missing: build it with "
                    "`make tests/unit/test_curve25519` before running this test")
    out = subprocess.run([str(BINARY), "--dump", str(COUNT), str(seed)],
                         capture_output=True, text=True, timeout=120, check=True)
    return out.stdout.splitlines()


def raw_public(key):
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def check_x25519(fields):
    scalar, point, ours, rc = (bytes.fromhex(fields[0]), bytes.fromhex(fields[1]),
                               bytes.fromhex(fields[2]), int(fields[3]))
    priv = X25519PrivateKey.from_private_bytes(scalar)
    try:
        theirs = priv.exchange(X25519PublicKey.from_public_bytes(point))
    except ValueError:
        # OpenSSL refuses an all-zero shared secret; we must have flagged it
        assert rc == -1 and ours == bytes(32), f"x25519 {fields}: OpenSSL refused, we did not"
        return
    assert rc == 0, f"x25519 {fields}: we returned {rc}"
    assert ours == theirs, f"x25519 mismatch for scalar {fields[0]} point {fields[1]}: " \
                           f"ours {ours.hex()} theirs {theirs.hex()}"


def check_ed25519(fields):
    seed = bytes.fromhex(fields[0])
    msg = b"" if fields[1] == "-" else bytes.fromhex(fields[1])
    pk, sig = bytes.fromhex(fields[2]), bytes.fromhex(fields[3])
    priv = Ed25519PrivateKey.from_private_bytes(seed)
    assert pk == raw_public(priv), f"ed25519 public key mismatch for seed {fields[0]}"
    # Ed25519 is deterministic: the signatures must be identical
    assert sig == priv.sign(msg), f"ed25519 signature mismatch for seed {fields[0]}"
    try:
        Ed25519PublicKey.from_public_bytes(pk).verify(sig, msg)
    except InvalidSignature:
        pytest.fail(f"OpenSSL rejects our signature for seed {fields[0]}")


@pytest.mark.parametrize("seed", [1, random.SystemRandom().randrange(1, 2**63)])
def test_crosscheck(seed):
    lines = dump_lines(seed)
    kinds = {"x25519": 0, "ed25519": 0}
    for line in lines:
        tag, *fields = line.split()
        if tag == "x25519":
            assert len(fields) == 4, line
            check_x25519(fields)
        elif tag == "ed25519":
            assert len(fields) == 4, line
            check_ed25519(fields)
        else:
            pytest.fail(f"unexpected dump line (seed {seed}): {line!r}")
        kinds[tag] += 1
    assert kinds == {"x25519": COUNT, "ed25519": COUNT}, f"seed {seed}: {kinds}"


# ---- the finite-field groups (group18, group exchange's built-in set) ----

def c_byte_string(body):
    """The big-endian number in C string literals of \\xHH escapes."""
    return int("".join(re.findall(r'\\x([0-9A-F]{2})', body)), 16)


def c_byte_constants(path, pattern):
    """Byte string constants (\\xHH escapes) of a C file: {name-or-bits: int}."""
    text = Path(REPO, path).read_text()
    return {key: c_byte_string(body) for key, body in re.findall(pattern, text)}


def rfc3526_groups():
    """RFC 3526's MODP groups as python3-asyncssh (an independent
    implementation) carries them: {bits: p}."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from asyncssh import kex_dh
    return {getattr(kex_dh, f"_group{n}_p").bit_length(): getattr(kex_dh, f"_group{n}_p")
            for n in (14, 15, 16, 17, 18)}


def modp_h_groups():
    """crypto/modp.h's RFC3526_MODP_<bits> macros: {bits: p}."""
    text = Path(REPO, "crypto/modp.h").read_text()
    return {int(bits): c_byte_string(body)
            for bits, body in re.findall(
                r'#define RFC3526_MODP_(\d+) \\\n((?:\t"(?:\\x[0-9A-F]{2})+"(?: \\)?\n)+)', text)}


def test_fixed_groups_match_rfc3526():
    """crypto/modp.h equals asyncssh's RFC 3526 groups, and kexalg.c's fixed
    groups are the right ones of them."""
    rfc = rfc3526_groups()
    modp = modp_h_groups()
    assert sorted(modp) == [2048, 4096, 6144, 8192]
    for bits, p in modp.items():
        assert p == rfc[bits], bits
    text = Path(REPO, "crypto/kexalg.c").read_text()
    arrays = re.findall(r'const char rfc3526_modp_(\d+)\[\] = RFC3526_MODP_(\d+);', text)
    assert arrays and all(a == b for a, b in arrays)
    fixed = dict(re.findall(r'KEX_DH(\d+) \?\s+rfc3526_modp_(\d+)', text))
    assert fixed == {"14": "2048", "16": "4096", "18": "8192"}


def openssl_says_prime(n):
    r = subprocess.run(["openssl", "prime", "-hex", f"{n:X}"], capture_output=True,
                       text=True, timeout=600, check=True)
    return r.stdout.strip().endswith("is prime")


def test_builtin_gex_groups_are_safe_primes():
    """Each built-in group exchange prime p: the sizes 2048..8192, generator
    2 (stated by the generator script), p and (p-1)/2 prime by OpenSSL's
    test. Those taken from RFC 3526 equal asyncssh's copies (proving them
    prime again at 6144/8192 bits costs minutes)."""
    groups = c_byte_constants("crypto/dhgroup_builtin.h",
                              r'\{ (\d+), "[^"]*",\n((?:\t  "(?:\\x[0-9A-F]{2})+"\n)+)')
    # the RFC 3526 entries name crypto/modp.h's array instead of the hex
    named = re.findall(r'\{ (\d+), "[^"]*",\n\t  rfc3526_modp_(\d+)\n',
                       Path(REPO, "crypto/dhgroup_builtin.h").read_text())
    modp = modp_h_groups()
    for bits, macro_bits in named:
        groups[bits] = modp[int(macro_bits)]
    origins = dict(re.findall(r'\{ (\d+), "([^"]*)"',
                              Path(REPO, "crypto/dhgroup_builtin.h").read_text()))
    assert sorted(int(b) for b in groups) == [2048, 3072, 4096, 6144, 8192]
    rfc = rfc3526_groups()
    for bits, p in groups.items():
        assert p.bit_length() == int(bits)
        if origins[bits].startswith("RFC 3526"):
            assert p == rfc[int(bits)], bits
        else:
            assert openssl_says_prime(p), f"{bits}-bit p is not prime"
            assert openssl_says_prime((p - 1) // 2), f"{bits}-bit (p-1)/2 is not prime"


# ---- AES-CTR and AES-GCM (crypto/aes.c, ghash.c, gcm.c, aesni.c) ----

AES_BINARY = Path(built("tests", "unit", "test_aes"))
AES_COUNT = 300


def impl_dump_lines(binary, count, seed, impl):
    """binary --dump count seed, on the portable code or on the CPU's choice."""
    if not binary.exists():
        pytest.fail(f"{binary} is missing: build it with "
                    f"`make {binary.relative_to(binary.parents[2])}` before running this test")
    env = dict(os.environ)
    env.pop("WOMBAT_CRYPTO", None)
    if impl == "portable":
        env["WOMBAT_CRYPTO"] = "portable"
    out = subprocess.run([str(binary), "--dump", str(count), str(seed)], env=env,
                         capture_output=True, text=True, timeout=120, check=True)
    return out.stdout.splitlines()


def unhex(field):
    return b"" if field == "-" else bytes.fromhex(field)


def check_gcm(fields):
    key, iv, aad, pt, ct, tag = (unhex(f) for f in fields)
    theirs = AESGCM(key).encrypt(iv, pt, aad or None)
    assert ct + tag == theirs, f"aes-gcm mismatch: key {fields[0]} iv {fields[1]} " \
                               f"aad {fields[2]} {len(pt)} bytes"


def check_ctr(fields):
    key, iv, pt, ct = (unhex(f) for f in fields)
    enc = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    theirs = enc.update(pt[:len(pt) // 16 * 16])
    assert ct[:len(theirs)] == theirs, f"aes-ctr mismatch: key {fields[0]} iv {fields[1]}"


@pytest.mark.parametrize("impl", ["portable", "auto"])
@pytest.mark.parametrize("seed", [1, random.SystemRandom().randrange(1, 2**63)])
def test_aes_crosscheck(seed, impl):
    lines = impl_dump_lines(AES_BINARY, AES_COUNT, seed, impl)
    head, cases = lines[0].split(), lines[1:]
    assert head[0] == "impl" and head[1] in ("portable", "aesni"), lines[0]
    if impl == "portable":
        assert head[1] == "portable", "WOMBAT_CRYPTO=portable was not honoured"
    kinds = {"gcm": 0, "ctr": 0}
    for line in cases:
        tag, *fields = line.split()
        if tag == "gcm":
            assert len(fields) == 6, line
            check_gcm(fields)
        elif tag == "ctr":
            assert len(fields) == 4, line
            check_ctr(fields)
        else:
            pytest.fail(f"unexpected dump line (seed {seed}): {line!r}")
        kinds[tag] += 1
    assert kinds == {"gcm": AES_COUNT // 2, "ctr": AES_COUNT // 2}, f"seed {seed}: {kinds}"


# ---- ChaCha20 (64-bit counter and nonce) and Poly1305 ----

CHACHA_BINARY = Path(built("tests", "unit", "test_chacha"))
CHACHA_COUNT = 300


def check_chacha(fields):
    key, nonce = unhex(fields[0]), unhex(fields[1])
    counter, pt, ct = int(fields[2]), unhex(fields[3]), unhex(fields[4])
    # OpenSSL's ChaCha20 takes words 12-15 as one 16-byte "nonce":
    # the 64-bit block counter (little-endian), then the 64-bit nonce
    enc = Cipher(algorithms.ChaCha20(key, counter.to_bytes(8, "little") + nonce),
                 mode=None).encryptor()
    assert ct == enc.update(pt), f"chacha20 mismatch: key {fields[0]} counter {counter} " \
                                 f"{len(pt)} bytes"


def check_poly1305(fields):
    key, msg, tag = (unhex(f) for f in fields)
    assert tag == Poly1305.generate_tag(key, msg), f"poly1305 mismatch: key {fields[0]}"


@pytest.mark.parametrize("impl", ["portable", "auto"])
@pytest.mark.parametrize("seed", [1, random.SystemRandom().randrange(1, 2**63)])
def test_chacha_poly1305_crosscheck(seed, impl):
    lines = impl_dump_lines(CHACHA_BINARY, CHACHA_COUNT, seed, impl)
    head, cases = lines[0].split(), lines[1:]
    assert head[0] == "impl" and head[1] in ("portable", "sse2", "avx2", "avx512vl"), lines[0]
    # the Poly1305 code for long messages (the dumped ones reach 2 KiB)
    assert head[2:3] == ["poly1305"] and head[3] in ("portable", "avx2"), lines[0]
    flags = Path("/proc/cpuinfo").read_text().split()
    if impl == "portable":
        assert head[1] == "portable", "WOMBAT_CRYPTO=portable was not honoured"
        assert head[3] == "portable", "WOMBAT_CRYPTO=portable was not honoured (Poly1305)"
    elif "avx512vl" in flags and "avx512f" in flags:
        assert head[1] == "avx512vl", "the CPU has AVX-512VL but it was not used"
    elif "avx2" in flags:
        assert head[1] == "avx2", "the CPU has AVX2 but it was not used"
    if impl != "portable" and "avx2" in flags:
        assert head[3] == "avx2", "the CPU has AVX2 but the AVX2 Poly1305 was not used"
    kinds = {"chacha": 0, "poly1305": 0}
    for line in cases:
        tag, *fields = line.split()
        if tag == "chacha":
            assert len(fields) == 5, line
            check_chacha(fields)
        elif tag == "poly1305":
            assert len(fields) == 3, line
            check_poly1305(fields)
        else:
            pytest.fail(f"unexpected dump line (seed {seed}): {line!r}")
        kinds[tag] += 1
    assert kinds == {"chacha": CHACHA_COUNT // 2, "poly1305": CHACHA_COUNT // 2}, \
        f"seed {seed}: {kinds}"


# ---- SHA-256 (crypto/sha256.c: the SHA extensions, or portable C) ----

SHA256_BINARY = Path(built("tests", "unit", "test_sha256"))
SHA256_COUNT = 300


@pytest.mark.parametrize("impl", ["portable", "auto"])
@pytest.mark.parametrize("seed", [1, random.SystemRandom().randrange(1, 2**63)])
def test_sha256_crosscheck(seed, impl):
    import hashlib
    lines = impl_dump_lines(SHA256_BINARY, SHA256_COUNT, seed, impl)
    head, cases = lines[0].split(), lines[1:]
    assert head[0] == "impl" and head[1] in ("portable", "shani"), lines[0]
    if impl == "portable":
        assert head[1] == "portable", "WOMBAT_CRYPTO=portable was not honoured"
    elif "sha_ni" in Path("/proc/cpuinfo").read_text().split():
        assert head[1] == "shani", "the CPU has the SHA extensions but they were not used"
    assert len(cases) == SHA256_COUNT
    for line in cases:
        tag, msg, digest = line.split()
        assert tag == "sha256", line
        data = unhex(msg)
        assert digest == hashlib.sha256(data).hexdigest(), \
            f"sha256 mismatch for {len(data)} bytes (seed {seed}, {head[1]})"


# ---- SHA-512 and SHA-384 (crypto/sha512.c, portable C only) ----

SHA512_BINARY = Path(built("tests", "unit", "test_sha512"))
SHA512_COUNT = 400


@pytest.mark.parametrize("seed", [1, random.SystemRandom().randrange(1, 2**63)])
def test_sha512_crosscheck(seed):
    import hashlib
    lines = impl_dump_lines(SHA512_BINARY, SHA512_COUNT, seed, "auto")
    head, cases = lines[0].split(), lines[1:]
    assert head == ["impl", "portable"], lines[0]
    assert len(cases) == SHA512_COUNT
    seen = set()
    for line in cases:
        tag, msg, digest = line.split()
        assert tag in ("sha512", "sha384"), line
        seen.add(tag)
        data = unhex(msg)
        assert digest == hashlib.new(tag, data).hexdigest(), \
            f"{tag} mismatch for {len(data)} bytes (seed {seed})"
    assert seen == {"sha512", "sha384"}
