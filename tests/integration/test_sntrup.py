"""sntrup761x25519-sha512 (and its older name with @openssh.com): OpenSSH's
ssh (Debian's 9.2 knows both names) negotiates it by default, logs in and
rekeys under each name; paramiko, with a kex engine whose math is
tests/tools/kex_client (kexalg's client half), logs in under the plain name
and shows that bad client values are refused. Each login only works if
wombatd's K, exchange hash and key derivation match the client's."""
import hashlib
import re
import socket
import subprocess

import paramiko
import pytest

from conftest import REPO, SERVER_KIND, USER, WOMBATD, built, negotiated, paramiko_run, ssh

# these read wombatd's log or its -T output
wombat_only = pytest.mark.skipif(SERVER_KIND != "wombatd",
                                 reason="wombatd-specific log lines")

OLD_NAME = "sntrup761x25519-sha512@openssh.com"
PLAIN = "sntrup761x25519-sha512"
KEX_CLIENT = built("tests", "tools", "kex_client")
PK_LEN, CT_LEN = 1158, 1039
MSG_KEX_ECDH_INIT, MSG_KEX_ECDH_REPLY = 30, 31


@pytest.fixture(scope="module", autouse=True)
def _kex_client_built():
    subprocess.run(["make", "-s", "tests/tools/kex_client"], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL)


def ssh_kex_list():
    r = subprocess.run(["ssh", "-Q", "kex"], capture_output=True, text=True, check=True)
    return r.stdout.split()


def kex_done(server, since):
    return re.findall(r"key exchange done", server.log(since))


# ---------------------------------------------------------------- OpenSSH ssh

def test_openssh_picks_sntrup_by_default(server):
    """ssh with its own default list: its first choice, an sntrup761 name
    (the plain one where the client knows it), is agreed."""
    client = ssh_kex_list()
    assert OLD_NAME in client
    want = PLAIN if PLAIN in client else OLD_NAME
    r = ssh(server, "echo", "hi", verbose=True)
    assert r.returncode == 0, r.stderr.decode(errors="replace")[-3000:]
    assert r.stdout == b"hi\n"
    assert negotiated(r.stderr)["kex"] == want


@wombat_only
@pytest.mark.parametrize("name", [OLD_NAME, PLAIN])
def test_openssh_forced_sntrup_login_and_client_rekey(server, name):
    """KexAlgorithms=<that name> only; RekeyLimit 1M on the client makes it
    re-exchange (with the same method) while 4 MiB flow both ways, and every
    byte arrives."""
    if name not in ssh_kex_list():
        pytest.skip(f"this ssh does not know {name} (paramiko covers it below)")
    data = hashlib.sha512(b"sntrup").digest() * (4 * 1024 * 1024 // 64)
    mark = server.mark()
    r = ssh(server, "cat", opts=[f"KexAlgorithms={name}", "RekeyLimit=1M"],
            input=data, verbose=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode(errors="replace")[-3000:]
    assert r.stdout == data
    assert negotiated(r.stderr)["kex"] == name
    server.wait_log(r"ended", since=mark)
    done = kex_done(server, mark)
    assert len(done) >= 4, f"only {len(done)} key exchanges for 8 MiB at 1M"


@wombat_only
def test_server_initiated_rekey_with_sntrup(start_server):
    """wombatd's own RekeyLimit: the server starts the re-exchanges."""
    srv = start_server(["RekeyLimit=1M", f"KexAlgorithms={OLD_NAME}"])
    mark = srv.mark()
    r = ssh(srv, "head -c 6000000 /dev/zero", timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"\0" * 6000000
    log = srv.log(mark)
    assert len(re.findall(r"starting rekey", log)) >= 3
    srv.stop()


def test_server_without_hybrid_falls_back(start_server):
    """A KexAlgorithms list without it: OpenSSH still gets in with curve25519."""
    srv = start_server(["KexAlgorithms=curve25519-sha256"])
    r = ssh(srv, "echo", "hi", verbose=True)
    assert r.returncode == 0 and r.stdout == b"hi\n"
    assert negotiated(r.stderr)["kex"] == "curve25519-sha256"
    srv.stop()


@wombat_only
def test_default_list_order():
    """-T: both names, plain first, ahead of curve25519-sha256."""
    r = subprocess.run([WOMBATD, "-T", "-f", "/dev/null"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    line = [l for l in r.stdout.splitlines() if l.startswith("kexalgorithms ")][0]
    algs = line.split()[1].split(",")
    assert algs.index(PLAIN) + 1 == algs.index(OLD_NAME)
    assert algs.index(OLD_NAME) < algs.index("curve25519-sha256")


# ------------------------------------------ the plain name, through paramiko

class KexSntrupViaTool:
    """Client kex engine for paramiko: kex_client does the KEM and X25519;
    K is a string in the exchange hash (and in key derivation, below)."""
    hash_algo = hashlib.sha512
    mangle = None        # bytes -> bytes, applied to the client's value

    def __init__(self, transport):
        self.transport = transport

    def start_kex(self):
        out = subprocess.run([KEX_CLIENT, "start", PLAIN], capture_output=True,
                             text=True, check=True).stdout.split()
        self.pub, self.state = bytes.fromhex(out[0]), out[1]
        assert len(self.pub) == PK_LEN + 32
        if self.mangle:
            self.pub = type(self).mangle(self.pub)
        m = paramiko.Message()
        m.add_byte(bytes([MSG_KEX_ECDH_INIT]))
        m.add_string(self.pub)
        self.transport._send_message(m)
        self.transport._expect_packet(MSG_KEX_ECDH_REPLY)

    def parse_next(self, ptype, m):
        t = self.transport
        host_key, server_pub, sig = m.get_string(), m.get_string(), m.get_binary()
        assert len(server_pub) == CT_LEN + 32
        r = subprocess.run([KEX_CLIENT, "finish", PLAIN, self.state, server_pub.hex()],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise paramiko.SSHException("kex_client refused the server's value")
        K = bytes.fromhex(r.stdout.strip())
        assert len(K) == 64
        hm = paramiko.Message()
        hm.add(t.local_version, t.remote_version, t.local_kex_init, t.remote_kex_init)
        hm.add_string(host_key)
        hm.add_string(self.pub)
        hm.add_string(server_pub)
        hm.add_string(K)
        t._set_K_H(K, self.hash_algo(hm.asbytes()).digest())
        t._verify_key(host_key, sig)          # fails unless H matches wombatd's
        t._activate_outbound()


class SntrupTransport(paramiko.Transport):
    _preferred_kex = (PLAIN,)
    _kex_info = dict(paramiko.Transport._kex_info, **{PLAIN: KexSntrupViaTool})

    def _compute_key(self, id, nbytes):
        """RFC 4253 7.2 with K encoded as a string, not an mpint."""
        def with_k():
            m = paramiko.Message()
            m.add_string(self.K)
            m.add_bytes(self.H)
            return m
        m = with_k()
        m.add_byte(id.encode())
        m.add_bytes(self.session_id)
        out = sofar = hashlib.sha512(m.asbytes()).digest()
        while len(out) < nbytes:
            m = with_k()
            m.add_bytes(sofar)
            block = hashlib.sha512(m.asbytes()).digest()
            out += block
            sofar += block
        return out[:nbytes]


def run_command(t, cmd):
    return paramiko_run(t, cmd)


@wombat_only
def test_plain_name_login_and_rekey(server, keys):
    mark = server.mark()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    t = SntrupTransport(sock)
    try:
        t.start_client(timeout=20)
        t.auth_publickey(USER, paramiko.Ed25519Key.from_private_key_file(
            keys.user["ed25519"]))
        assert run_command(t, "echo one") == (0, b"one\n")
        t.renegotiate_keys()
        assert run_command(t, "echo two") == (0, b"two\n")
    finally:
        t.close()
    log = server.log(mark)
    assert f"kex: {PLAIN} " in log
    assert len(kex_done(server, mark)) >= 2


@wombat_only
@pytest.mark.parametrize("what,mangle", [
    ("X25519 value of low order", lambda pub: pub[:PK_LEN] + bytes(32)),
    ("non-canonical sntrup761 key", lambda pub: b"\xff" * PK_LEN + pub[PK_LEN:]),
    ("short value", lambda pub: pub[:-1]),
])
def test_plain_name_bad_client_value_refused(server, what, mangle):
    mark = server.mark()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)

    class Mangled(KexSntrupViaTool):
        pass
    Mangled.mangle = staticmethod(mangle)

    class T(SntrupTransport):
        _kex_info = dict(SntrupTransport._kex_info, **{PLAIN: Mangled})

    t = T(sock)
    try:
        with pytest.raises((paramiko.SSHException, EOFError, OSError)):
            t.start_client(timeout=20)
    finally:
        t.close()
    assert server.wait_log(rf"invalid client public value in {PLAIN}", since=mark), what
    assert server.alive()


# ---------------------- an independent implementation: tinysshd encapsulates

class KexVerified(Exception):
    """Raised where the new keys would go live: the kex, checked, is over."""


def tinysshd_exchange(keydir, corrupt_ciphertext=False):
    """One key exchange with tinysshd (its sntrup761 encapsulates to our key)
    over a socket pair; paramiko verifies tinysshd's Ed25519 signature over
    H, which covers K: it holds only if our decapsulation gave tinysshd's
    KEM key. Returns the exception start_client ended with."""
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen(["tinysshd", str(keydir)], stdin=theirs, stdout=theirs,
                            stderr=subprocess.DEVNULL)
    theirs.close()

    class Engine(KexSntrupViaTool):
        def parse_next(self, ptype, m):
            if corrupt_ciphertext:
                raw = bytearray(m.asbytes())
                # host key string, then our reply string: flip a byte inside
                # the sntrup761 ciphertext (offset 4 + len(host key) + 4 + 10)
                hk_len = int.from_bytes(raw[0:4], "big")
                raw[4 + hk_len + 4 + 10] ^= 0x01
                m = paramiko.Message(bytes(raw))
            return super().parse_next(ptype, m)

    class Client(SntrupTransport):
        # tinysshd speaks only chacha20-poly1305; paramiko does not, but
        # the cipher is never started: the test ends when keys would go live
        _preferred_kex = (OLD_NAME,)
        _preferred_ciphers = ("chacha20-poly1305@openssh.com",)
        _preferred_keys = ("ssh-ed25519",)
        _kex_info = dict(paramiko.Transport._kex_info, **{OLD_NAME: Engine})

        def _activate_outbound(self):
            raise KexVerified()

    t = Client(ours)
    try:
        t.start_client(timeout=30)
        return None
    except Exception as e:      # paramiko re-raises what its thread saw
        return e
    finally:
        t.close()
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def tinyssh_keys(tmp_path_factory):
    keydir = tmp_path_factory.mktemp("tinyssh") / "keys"
    subprocess.run(["tinysshd-makekey", str(keydir)], check=True,
                   stdout=subprocess.DEVNULL)
    return keydir


def test_our_decapsulation_of_tinysshd_encapsulation(tinyssh_keys):
    """Key generation and decapsulation against an independent sntrup761
    (tinysshd's): a few exchanges, each with a fresh key pair."""
    for _ in range(5):
        e = tinysshd_exchange(tinyssh_keys)
        assert isinstance(e, KexVerified), repr(e)


def test_tinysshd_control_altered_ciphertext_fails(tinyssh_keys):
    """The check above can fail: one flipped ciphertext bit makes our
    decapsulation reject (implicitly), K differs, the signature does not
    verify."""
    e = tinysshd_exchange(tinyssh_keys, corrupt_ciphertext=True)
    assert isinstance(e, paramiko.SSHException) and "ignature" in str(e), repr(e)


# ------------------------------------------- clients without it fall back

@wombat_only
def test_paramiko_and_asyncssh_fall_back(server, keys):
    """Clients that do not offer sntrup761 (Debian's paramiko and asyncssh)
    agree on curve25519 with the default server list and log in unharmed."""
    import asyncio
    import asyncssh

    mark = server.mark()
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect("127.0.0.1", port=server.port, username=USER,
                   key_filename=keys.user["ed25519"], look_for_keys=False,
                   allow_agent=False, timeout=10)
    _, out, _ = client.exec_command("echo via-paramiko")
    assert out.read() == b"via-paramiko\n"
    client.close()
    assert re.search(r"kex: curve25519-sha256(@libssh\.org)? ", server.log(mark))

    async def run():
        async with asyncssh.connect("127.0.0.1", port=server.port, username=USER,
                                    client_keys=[keys.user["ed25519"]],
                                    known_hosts=None) as conn:
            return (await conn.run("echo via-asyncssh")).stdout
    mark = server.mark()
    assert asyncio.run(run()) == "via-asyncssh\n"
    kex = re.search(r"kex: (\S+) ", server.log(mark)).group(1)
    assert kex.startswith("curve25519-sha256") or "sntrup761" in kex, kex
