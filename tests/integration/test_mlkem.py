"""mlkem768x25519-sha256 end to end: a paramiko client that speaks it logs in,
runs a command and rekeys; invalid client values are refused; clients that do
not know it fall back unharmed.

OpenSSH 9.2's ssh (Debian 12) predates mlkem768x25519-sha256, so the client
side is written here as a paramiko kex class from the draft's text
("mlkem-hybrid-kex"): C_INIT = ML-KEM-768 encapsulation key || X25519 value,
S_REPLY = ciphertext || X25519 value, K = SHA-256(K_PQ || K_CL) as a string
in H and in the key derivation. The client's ML-KEM key generation and
decapsulation run in tests/unit/test_mlkem768 (--keygen, --decaps1);
ML-KEM itself is cross-checked against an independent implementation in
test_mlkem_crosscheck.py. This test builds nothing: run
`make tests/unit/test_mlkem768` first.
"""
import hashlib
import re
import subprocess
from pathlib import Path

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey, X25519PublicKey)

from conftest import USER, WOMBATD, built, negotiated, paramiko_run, ssh_argv

TOOL = Path(built("tests", "unit", "test_mlkem768"))
KEX = "mlkem768x25519-sha256"
EK_LEN, CT_LEN, X_LEN = 1184, 1088, 32
MSG_HYBRID_INIT, MSG_HYBRID_REPLY = 30, 31


def tool(*args):
    if not TOOL.exists():
        pytest.fail(f"{TOOL} is missing: build it with `make tests/unit/test_mlkem768`")
    out = subprocess.run([str(TOOL), *args], capture_output=True, text=True,
                         timeout=30, check=True)
    return out.stdout.split()


def raw(public_key):
    return public_key.public_bytes(serialization.Encoding.Raw,
                                   serialization.PublicFormat.Raw)


def ssh_string(data):
    return len(data).to_bytes(4, "big") + data


class KexMLKEM768X25519:
    """Client side of mlkem768x25519-sha256 for paramiko's Transport.
    corrupt_ek: send an encapsulation key that fails FIPS 203's modulus
    check (its first coefficient = q = 3329)."""
    hash_algo = hashlib.sha256
    corrupt_ek = False

    def __init__(self, transport):
        self.transport = transport

    def start_kex(self):
        ek_hex, self.dk_hex = tool("--keygen")
        ek = bytearray.fromhex(ek_hex)
        assert len(ek) == EK_LEN
        if self.corrupt_ek:
            ek[0] = 0x01
            ek[1] = (ek[1] & 0xF0) | 0x0D
        self.x_key = X25519PrivateKey.generate()
        self.c_init = bytes(ek) + raw(self.x_key.public_key())
        m = paramiko.Message()
        m.add_byte(bytes([MSG_HYBRID_INIT]))
        m.add_string(self.c_init)
        self.transport._send_message(m)
        self.transport._expect_packet(MSG_HYBRID_REPLY)

    def parse_next(self, ptype, m):
        if ptype != MSG_HYBRID_REPLY:
            raise paramiko.SSHException(f"unexpected message {ptype} in {KEX}")
        host_key = m.get_string()
        s_reply = m.get_string()
        sig = m.get_binary()
        if len(s_reply) != CT_LEN + X_LEN:
            raise paramiko.SSHException(f"S_REPLY of {len(s_reply)} bytes")
        ct, server_x = s_reply[:CT_LEN], s_reply[CT_LEN:]
        (k_pq_hex,) = tool("--decaps1", self.dk_hex, ct.hex())
        k_cl = self.x_key.exchange(X25519PublicKey.from_public_bytes(server_x))
        K = hashlib.sha256(bytes.fromhex(k_pq_hex) + k_cl).digest()
        t = self.transport
        H = hashlib.sha256(b"".join(ssh_string(x) for x in (
            t.local_version.encode(), t.remote_version.encode(),
            t.local_kex_init, t.remote_kex_init, host_key, self.c_init, s_reply, K,
        ))).digest()
        t._set_K_H(K, H)
        t._verify_key(host_key, sig)      # raises if H (so K) differs from the server's
        t._activate_outbound()


class HybridTransport(paramiko.Transport):
    """paramiko's Transport with mlkem768x25519-sha256 known; K given as
    bytes is encoded as a string in the key derivation (RFC 4253 7.2)."""
    _kex_info = dict(paramiko.Transport._kex_info, **{KEX: KexMLKEM768X25519})

    def _compute_key(self, letter, nbytes):
        if not isinstance(self.K, bytes):
            return super()._compute_key(letter, nbytes)
        if isinstance(letter, str):
            letter = letter.encode()
        k = ssh_string(self.K)
        out = hashlib.sha256(k + self.H + letter + self.session_id).digest()
        while len(out) < nbytes:
            out += hashlib.sha256(k + self.H + out).digest()
        return out[:nbytes]


def hybrid_client(server, keys, corrupt=False):
    t = HybridTransport(("127.0.0.1", server.port))
    t.get_security_options().kex = (KEX,)
    KexMLKEM768X25519.corrupt_ek = corrupt
    t.start_client(timeout=15)
    return t


def run(t, command):
    return paramiko_run(t, command, open_timeout=15)


def test_login_and_command_with_mlkem768x25519(server, keys):
    mark = server.mark()
    t = hybrid_client(server, keys)
    try:
        t.auth_publickey(USER, paramiko.Ed25519Key.from_private_key_file(keys.user["ed25519"]))
        assert t.is_authenticated()
        status, out = run(t, "echo hybrid-$((6*7))")
        assert (status, out) == (0, b"hybrid-42\n")
    finally:
        t.close()
    server.wait_log(r"kex: mlkem768x25519-sha256 host key", since=mark)


def test_rekey_under_mlkem768x25519(server, keys):
    mark = server.mark()
    t = hybrid_client(server, keys)
    try:
        t.auth_publickey(USER, paramiko.Ed25519Key.from_private_key_file(keys.user["ed25519"]))
        assert run(t, "echo one") == (0, b"one\n")
        t.renegotiate_keys()
        assert run(t, "echo two") == (0, b"two\n")
    finally:
        t.close()
    # the first exchange and the rekey both use the hybrid
    server.wait_log(r"key exchange done \(mlkem768x25519-sha256.*\n(.*\n)*.*"
                    r"key exchange done \(mlkem768x25519-sha256", since=mark)


def test_encapsulation_key_failing_modulus_check_refused(server, keys):
    mark = server.mark()
    with pytest.raises((paramiko.SSHException, EOFError, OSError)):
        t = hybrid_client(server, keys, corrupt=True)
        try:
            t.auth_publickey(USER, paramiko.Ed25519Key.from_private_key_file(
                keys.user["ed25519"]))
        finally:
            t.close()
    server.wait_log(r"invalid client public value in mlkem768x25519-sha256", since=mark)
    # and the daemon still serves the well-behaved
    t = hybrid_client(server, keys)
    try:
        t.auth_publickey(USER, paramiko.Ed25519Key.from_private_key_file(keys.user["ed25519"]))
        assert run(t, "true") == (0, b"")
    finally:
        t.close()


def test_openssh_without_mlkem_falls_back(server):
    """OpenSSH 9.2 sees the hybrid offered first, skips the name it lacks and
    agrees on a method both know."""
    argv = ssh_argv(server, "echo", "ok", verbose=True)
    argv.insert(1, "-v")                                  # -vv: the KEXINIT lists
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    assert r.returncode == 0 and r.stdout == b"ok\n", r.stderr[-2000:]
    assert re.search(rb"peer server KEXINIT proposal\s+debug2: KEX algorithms: "
                     rb"mlkem768x25519-sha256,", r.stderr), r.stderr[-3000:]
    kex = negotiated(r.stderr)["kex"]
    assert kex and kex != KEX, kex


def test_paramiko_without_mlkem_falls_back(server, keys):
    t = paramiko.Transport(("127.0.0.1", server.port))
    try:
        t.start_client(timeout=15)
        t.auth_publickey(USER, paramiko.Ed25519Key.from_private_key_file(keys.user["ed25519"]))
        assert t.kex_engine.__class__.__name__ != "KexMLKEM768X25519"
        assert run(t, "echo classic") == (0, b"classic\n")
    finally:
        t.close()


def test_mlkem_offered_first_by_default():
    out = subprocess.run([WOMBATD, "-T", "-f", "/dev/null"],
                         capture_output=True, text=True, timeout=30)
    line = [l for l in out.stdout.splitlines() if l.startswith("kexalgorithms ")]
    assert line and line[0].split()[1].startswith(KEX + ","), out.stdout + out.stderr
