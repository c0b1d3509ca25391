"""The algorithms older and current clients still negotiate (issue 12, part
C): diffie-hellman-group-exchange-sha256 with its moduli file,
diffie-hellman-group18-sha512, aes192-ctr, hmac-sha1(-etm), ssh-rsa user-key
signatures only when the admin enables them, and configuration lists that
name algorithms wombat knows but does not implement.

OpenSSH's ssh selecting each new algorithm is in test_interop.py (the lists
in conftest.py); here: what the server sends and logs, driven by ssh and by
paramiko where the protocol itself needs looking at."""
import os
import re
import subprocess
from pathlib import Path

import paramiko
import pytest
from paramiko.common import MSG_EXT_INFO
from paramiko.kex_gex import KexGexSHA256

from conftest import (REPO, SERVER_KIND, USER, WOMBATD, keygen, negotiated, ssh)

pytestmark = pytest.mark.skipif(SERVER_KIND == "sshd",
                                reason="wombatd's own logs and options")


def builtin_groups():
    """{bits: p} of crypto/dhgroup_builtin.h, read independently of the C."""
    text = Path(REPO, "crypto", "dhgroup_builtin.h").read_text()
    groups = {}
    for bits, body in re.findall(r'\{ (\d+), "[^"]*",\n((?:\t  "(?:\\x[0-9A-F]{2})+"\n)+)', text):
        groups[int(bits)] = int("".join(re.findall(r'\\x([0-9A-F]{2})', body)), 16)
    return groups


def moduli_line(p, g, size=None):
    size = p.bit_length() - 1 if size is None else size
    return f"20260101000000 2 6 100 {size} {g:x} {p:X}\n"


# ------------------------------------------------------------ paramiko client

def gex_engine(seen, min_bits=2048, preferred=2048, max_bits=8192, old_style=False):
    """A group-exchange client that records the group the server sent."""
    class Recording(KexGexSHA256):
        def start_kex(self):
            self.min_bits, self.preferred_bits, self.max_bits = min_bits, preferred, max_bits
            super().start_kex(_test_old_style=old_style)

        def _parse_kexdh_gex_group(self, m):
            r = super()._parse_kexdh_gex_group(m)
            seen["p"], seen["g"] = self.p, self.g
            return r
    return Recording


def paramiko_login(server, key_path, kex=None, engine=None, ciphers=None, macs=None,
                   pubkeys_disabled=(), no_server_sig_algs=False):
    """Log in with paramiko; returns (transport, authenticated). The caller
    closes the transport. no_server_sig_algs plays a client from before RFC
    8308, which signs RSA with ssh-rsa whatever the server said."""
    t = paramiko.Transport(("127.0.0.1", server.port),
                           disabled_algorithms={"pubkeys": list(pubkeys_disabled)})
    if kex:
        t._preferred_kex = (kex,)
    if engine:
        t._kex_info = dict(t._kex_info, **{kex: engine})
    if ciphers:
        t._preferred_ciphers = tuple(ciphers)
    if macs:
        t._preferred_macs = tuple(macs)
    if no_server_sig_algs:
        # ignore EXT_INFO: server-sig-algs never reaches the auth code
        t._handler_table = {**t._handler_table, MSG_EXT_INFO: lambda tr, m: None}
    t.start_client(timeout=30)
    with open(key_path) as f:
        rsa = "RSA" in f.read() or "rsa" in os.path.basename(key_path)
    key = (paramiko.RSAKey if rsa else paramiko.Ed25519Key).from_private_key_file(key_path)
    try:
        t.auth_publickey(USER, key)
    except paramiko.AuthenticationException:
        pass
    return t, t.is_authenticated()


GEX = "diffie-hellman-group-exchange-sha256"


# ------------------------------------------------------------ group exchange

def test_gex_openssh_gets_a_group_from_the_system_moduli(server):
    mark = server.mark()
    r = ssh(server, "echo", "hi", opts=[f"KexAlgorithms={GEX}"], verbose=True)
    assert r.returncode == 0 and r.stdout == b"hi\n", r.stderr[-2000:]
    assert negotiated(r.stderr)["kex"] == GEX
    # OpenSSH asks for 2048..8192 bits and prefers 8192 (chacha20's 512-bit need)
    req = re.search(rb"SSH2_MSG_KEX_DH_GEX_REQUEST\((\d+)<(\d+)<(\d+)\)", r.stderr)
    assert req, r.stderr[-2000:]
    lo, want, hi = (int(x) for x in req.groups())
    source = "/etc/ssh/moduli" if os.path.exists("/etc/ssh/moduli") else "the built-in set"
    m = server.wait_log(rf"group exchange: {lo}\.\.{hi} \({want}\) bits asked, "
                        rf"(\d+)-bit group from {re.escape(source)}", since=mark)
    assert m, server.log(mark)
    assert lo <= int(m.group(1)) <= hi


def test_gex_group_comes_from_moduli_file(start_server, keys, tmp_path):
    """The group a client receives is the one in ModuliFile (generator 5
    makes it unmistakable); bad lines around it are skipped and logged."""
    groups = builtin_groups()
    p3072 = groups[3072]
    moduli = tmp_path / "moduli"
    moduli.write_text("# Time Type Tests Tries Size Generator Modulus\n"
                      "this is not a moduli line\n"
                      "20260101000000 2 6 100 3071 5\n"
                      + moduli_line(p3072, 5)
                      + moduli_line(p3072 + 2, 2)[:-1] + "Z\n"
                      + moduli_line(groups[2048], 2, size=4095))
    os.chmod(moduli, 0o644)
    server = start_server([f"ModuliFile={moduli}"])
    seen = {}
    mark = server.mark()
    t, ok = paramiko_login(server, keys.user["ed25519"], kex=GEX,
                           engine=gex_engine(seen, preferred=3072))
    t.close()
    assert ok
    assert seen == {"p": p3072, "g": 5}
    assert server.wait_log(rf"{re.escape(str(moduli))}: 4 malformed line\(s\) skipped "
                           r"\(the first is line 2\)", since=mark), server.log(mark)
    # OpenSSH prefers 8192 bits: it gets the largest in range, this one
    mark = server.mark()
    r = ssh(server, "true", opts=[f"KexAlgorithms={GEX}"])
    assert r.returncode == 0, r.stderr[-2000:]
    assert server.wait_log(r"2048\.\.8192 \(8192\) bits asked, 3072-bit group from "
                           + re.escape(str(moduli)), since=mark), server.log(mark)


@pytest.mark.parametrize("case", ["junk", "world-writable", "missing", "none"])
def test_gex_falls_back_to_builtin_groups(start_server, keys, tmp_path, case):
    """No usable group in the file, a file others can write, no file, or
    ModuliFile none: the built-in set serves, and the reason is logged."""
    moduli = tmp_path / "moduli"
    if case == "junk":
        moduli.write_text("garbage\n" + "f" * 9000 + "\n")
        os.chmod(moduli, 0o644)
    elif case == "world-writable":
        moduli.write_text(moduli_line(builtin_groups()[2048] , 5))
        os.chmod(moduli, 0o666)
    path = "none" if case == "none" else str(moduli)
    server = start_server([f"ModuliFile={path}"])
    seen = {}
    mark = server.mark()
    t, ok = paramiko_login(server, keys.user["ed25519"], kex=GEX,
                           engine=gex_engine(seen, preferred=2048))
    t.close()
    assert ok
    assert seen == {"p": builtin_groups()[2048], "g": 2}
    assert server.wait_log(r"2048-bit group from the built-in set", since=mark)
    expected = {
        "junk": rf"{re.escape(path)}: 2 malformed line\(s\) skipped \(the first is line 1\)"
                rf"[\s\S]*{re.escape(path)} has no usable group of 2048\.\.8192 bits",
        "world-writable": rf"{re.escape(path)} is not a root-owned file writable only by "
                          r"its owner: ignored",
    }.get(case)
    if expected:
        assert server.wait_log(expected, since=mark), server.log(mark)
    else:
        assert not re.search(r"malformed|no usable group|ignored", server.log(mark))


def test_gex_old_style_request(server, keys):
    """The n-only SSH_MSG_KEX_DH_GEX_REQUEST_OLD (RFC 4419 s5) hashes only n."""
    seen = {}
    t, ok = paramiko_login(server, keys.user["ed25519"], kex=GEX,
                           engine=gex_engine(seen, preferred=2048, old_style=True))
    t.close()
    assert ok and seen["p"].bit_length() == 2048


@pytest.mark.parametrize("lo,want,hi", [(1024, 1024, 1024), (8193, 9000, 10000),
                                        (4096, 2048, 8192)])
def test_gex_request_wombat_cannot_serve(server, keys, lo, want, hi):
    """Below 2048 bits, above 8192, or min > n: the exchange fails, logged."""
    mark = server.mark()
    with pytest.raises((paramiko.SSHException, EOFError)):
        paramiko_login(server, keys.user["ed25519"], kex=GEX,
                       engine=gex_engine({}, min_bits=lo, preferred=want, max_bits=hi))
    assert server.wait_log(rf"no group for the group exchange request min/n/max "
                           rf"{lo}/{want}/{hi} bits", since=mark), server.log(mark)
    assert server.alive()


def test_paramiko_gex_aes192_ctr_hmac_sha1(server, keys):
    """An independent client: group exchange, aes192-ctr and hmac-sha1 in one
    connection, then a command."""
    t, ok = paramiko_login(server, keys.user["ed25519"], kex=GEX,
                           engine=gex_engine({}), ciphers=["aes192-ctr"], macs=["hmac-sha1"])
    try:
        assert ok
        assert (t.local_cipher, t.remote_cipher) == ("aes192-ctr", "aes192-ctr")
        assert (t.local_mac, t.remote_mac) == ("hmac-sha1", "hmac-sha1")
        chan = t.open_session(timeout=10)
        chan.exec_command("echo wombat")
        assert chan.makefile().read() == b"wombat\n"
        assert chan.recv_exit_status() == 0
    finally:
        t.close()


@pytest.mark.parametrize("kex", ["diffie-hellman-group18-sha512", GEX])
def test_rekey_repeats_the_exchange(server, kex):
    """A second (and third) exchange in one connection: group18's 8192-bit
    group again, group exchange's request and group again."""
    data = os.urandom(96 * 1024)
    mark = server.mark()
    r = ssh(server, "cat", opts=[f"KexAlgorithms={kex}", "RekeyLimit=32K"], input=data,
            verbose=True)
    assert r.returncode == 0 and r.stdout == data, r.stderr[-2000:]
    assert negotiated(r.stderr)["kex"] == kex
    server.wait_log(r"Connection from .* ended", since=mark)
    done = re.findall(rf"key exchange done \({re.escape(kex)},", server.log(mark))
    assert len(done) >= 2, server.log(mark)[-3000:]


# ------------------------------------------------------------ ssh-rsa (SHA-1)

SSH_RSA_ONLY = ["rsa-sha2-256", "rsa-sha2-512"]


def test_ssh_rsa_refused_by_default(server, keys):
    """Off by default (OpenSSH 8.8+): not in server-sig-algs, so OpenSSH's
    ssh does not even offer it; a client that signs with it anyway (one from
    before RFC 8308) is refused, and the log says why."""
    r = ssh(server, "true", key=keys.user["rsa"], opts=["PubkeyAcceptedAlgorithms=ssh-rsa"],
            verbose=True)
    assert r.returncode == 255, r.stderr[-2000:]
    mark = server.mark()
    t, ok = paramiko_login(server, keys.user["rsa"], pubkeys_disabled=SSH_RSA_ONLY,
                           no_server_sig_algs=True)
    t.close()
    assert not ok
    assert server.wait_log(rf"publickey for {re.escape(USER)}: ssh-rsa is not in "
                           r"PubkeyAcceptedAlgorithms", since=mark), server.log(mark)
    # the same key with rsa-sha2-512 is fine
    assert ssh(server, "true", key=keys.user["rsa"]).returncode == 0


@pytest.mark.parametrize("setting", ["+ssh-rsa", "ssh-rsa,ssh-ed25519"])
def test_ssh_rsa_accepted_when_enabled(start_server, keys, setting):
    server = start_server([f"PubkeyAcceptedAlgorithms={setting}"])
    mark = server.mark()
    r = ssh(server, "echo", "in", key=keys.user["rsa"],
            opts=["PubkeyAcceptedAlgorithms=ssh-rsa"])
    assert r.returncode == 0 and r.stdout == b"in\n", r.stderr[-2000:]
    assert server.wait_log(rf"publickey for {re.escape(USER)}: ssh-rsa signature verified",
                           since=mark), server.log(mark)
    mark = server.mark()
    t, ok = paramiko_login(server, keys.user["rsa"], pubkeys_disabled=SSH_RSA_ONLY,
                           no_server_sig_algs=True)
    t.close()
    assert ok
    assert server.wait_log(r"ssh-rsa signature verified", since=mark)


def test_ssh_rsa_is_never_a_host_key_algorithm(start_server):
    """HostKeyAlgorithms +ssh-rsa is accepted with a warning but the server
    never signs with SHA-1: a client that wants only ssh-rsa finds no match."""
    server = start_server(config="HostKeyAlgorithms +ssh-rsa\n")
    assert re.search(r"HostKeyAlgorithms: 'ssh-rsa' is not supported by wombat, ignored",
                     server.log())
    mark = server.mark()
    r = ssh(server, "true", opts=["HostKeyAlgorithms=ssh-rsa"])
    assert r.returncode == 255
    assert server.wait_log(r"no matching host key algorithm", since=mark), server.log(mark)
    assert ssh(server, "true", opts=["HostKeyAlgorithms=rsa-sha2-256"]).returncode == 0


# ------------------------------------------------------------ configuration

def run_t(conf_text, tmp_path, hostkey):
    conf = tmp_path / "sshd_config"
    conf.write_text(conf_text)
    return conf, subprocess.run([WOMBATD, "-t", "-f", str(conf), "-h", hostkey],
                                capture_output=True, text=True, timeout=20)


@pytest.fixture(scope="module")
def hostkey(tmp_path_factory):
    return keygen(tmp_path_factory.mktemp("hk") / "host_ed25519", "ed25519")


@pytest.mark.parametrize("line,unusable", [
    ("HostKeyAlgorithms rsa-sha2-512,ssh-rsa", "ssh-rsa"),
    ("HostKeyAlgorithms ssh-ed25519,ssh-dss,ssh-ed25519-cert-v01@openssh.com",
     "ssh-dss,ssh-ed25519-cert-v01@openssh.com"),
    ("Ciphers 3des-cbc,aes256-ctr,aes128-cbc", "3des-cbc,aes128-cbc"),
    ("MACs hmac-md5,hmac-sha1,umac-64@openssh.com", "hmac-md5,umac-64@openssh.com"),
    ("KexAlgorithms diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,"
     "curve25519-sha256", "diffie-hellman-group1-sha1,diffie-hellman-group14-sha1"),
    ("PubkeyAcceptedAlgorithms +ssh-dss", "ssh-dss"),
])
def test_known_unimplemented_algorithms_warn(tmp_path, hostkey, line, unusable):
    conf, r = run_t(f"Port 22\n{line}\n", tmp_path, hostkey)
    assert r.returncode == 0, r.stderr
    keyword = line.split()[0]
    assert f"{conf}:2: {keyword}: '{unusable}' is not supported by wombat, ignored" \
        in r.stderr, r.stderr


@pytest.mark.parametrize("line,message", [
    ("HostKeyAlgorithms ssh-rsa", "no algorithm wombat implements in 'ssh-rsa'"),
    ("Ciphers 3des-cbc,aes128-cbc", "no algorithm wombat implements in '3des-cbc,aes128-cbc'"),
    ("MACs hmac-md5,hmac-sha1-96", "no algorithm wombat implements in 'hmac-md5,hmac-sha1-96'"),
    ("KexAlgorithms diffie-hellman-group1-sha1",
     "no algorithm wombat implements in 'diffie-hellman-group1-sha1'"),
    ("Ciphers aes128-ctr,rot13", "unsupported algorithm 'rot13'"),
])
def test_no_usable_algorithm_is_an_error(tmp_path, hostkey, line, message):
    conf, r = run_t(f"\n{line}\n", tmp_path, hostkey)
    assert r.returncode != 0
    assert f"{conf}:2: {line.split()[0]}: {message}" in r.stderr, r.stderr


def test_daemon_starts_with_ssh_rsa_in_host_key_list(start_server):
    """The issue's case: `HostKeyAlgorithms rsa-sha2-512,ssh-rsa` used to stop
    the daemon; now it serves rsa-sha2-512 and says what it ignored."""
    server = start_server(config="HostKeyAlgorithms rsa-sha2-512,ssh-rsa\n")
    assert re.search(r"config-\S+:1: HostKeyAlgorithms: 'ssh-rsa' is not supported by "
                     r"wombat, ignored", server.log()), server.log()
    r = ssh(server, "echo", "ok", verbose=True)
    assert r.returncode == 0 and r.stdout == b"ok\n", r.stderr[-2000:]
    assert negotiated(r.stderr)["hostkey"] == "rsa-sha2-512"


def test_moduli_file_in_dump(tmp_path, hostkey):
    conf, r = run_t("ModuliFile /etc/wombat/moduli\n", tmp_path, hostkey)
    assert r.returncode == 0, r.stderr
    out = subprocess.run([WOMBATD, "-T", "-f", str(conf), "-h", hostkey],
                         capture_output=True, text=True, timeout=20).stdout
    assert "modulifile /etc/wombat/moduli" in out.splitlines()
    out = subprocess.run([WOMBATD, "-T", "-f", "/dev/null", "-h", hostkey],
                         capture_output=True, text=True, timeout=20).stdout
    assert "modulifile /etc/ssh/moduli" in out.splitlines()


# ------------------------------------------------------------ completeness

# What OpenSSH's client knows and wombat leaves out on purpose (the issue's
# legacy list: DSA, 3DES, CBC, MD5, SHA-1 key exchange, 96-bit MACs; and
# umac, which libtomcrypt lacks), or which other work adds (the
# post-quantum hybrids, issue 12 parts A and B).
LEGACY = {
    "kex": {"diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1",
            "diffie-hellman-group-exchange-sha1"},
    "cipher": {"3des-cbc", "aes128-cbc", "aes192-cbc", "aes256-cbc"},
    "mac": {"hmac-sha1-96", "hmac-md5", "hmac-md5-96", "hmac-sha1-96-etm@openssh.com",
            "hmac-md5-etm@openssh.com", "hmac-md5-96-etm@openssh.com"},
}
NOT_YET = {
    "kex": set(),
    "cipher": set(),
    "mac": {"umac-64@openssh.com", "umac-128@openssh.com",
            "umac-64-etm@openssh.com", "umac-128-etm@openssh.com"},
}
KEYWORD = {"kex": "kexalgorithms", "cipher": "ciphers", "mac": "macs"}


def client_knows(what):
    out = subprocess.run(["ssh", "-Q", what], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("what", ["kex", "cipher", "mac"])
def test_every_current_client_algorithm_is_served(hostkey, what):
    """As OpenSSH's regression tests loop over what its client knows: every
    algorithm of this ssh that is not legacy is in wombat's default list
    (and so logged in with by test_interop.py via conftest's lists), bar
    the named exceptions."""
    from conftest import CIPHERS, KEX_ALGS, MACS
    dump = subprocess.run([WOMBATD, "-T", "-f", "/dev/null", "-h", hostkey],
                          capture_output=True, text=True, timeout=20, check=True).stdout
    ours = set(re.search(rf"^{KEYWORD[what]} (\S+)$", dump, re.M).group(1).split(","))
    wanted = client_knows(what) - LEGACY[what]
    missing = wanted - ours
    assert missing <= NOT_YET[what], f"not served: {sorted(missing - NOT_YET[what])}"
    interop = {"kex": KEX_ALGS, "cipher": CIPHERS, "mac": MACS}[what]
    assert wanted & ours <= set(interop), "conftest lists lag the defaults"


@pytest.mark.parametrize("query,keyword", [
    ("kex", "KexAlgorithms"), ("cipher", "Ciphers"), ("mac", "MACs"),
    ("HostKeyAlgorithms", "HostKeyAlgorithms"),
    ("PubkeyAcceptedAlgorithms", "PubkeyAcceptedAlgorithms"),
])
def test_openssh_full_lists_are_accepted(tmp_path, hostkey, query, keyword):
    """An sshd_config line listing everything OpenSSH knows (`ssh -Q`) loads:
    what wombat lacks is named in one warning, nothing is an error."""
    names = sorted(client_knows(query))
    conf, r = run_t(f"{keyword} {','.join(names)}\n", tmp_path, hostkey)
    assert r.returncode == 0, r.stderr
    m = re.search(rf"{re.escape(str(conf))}:1: {keyword}: '(\S+)' is not supported by "
                  r"wombat, ignored", r.stderr)
    assert m, r.stderr
    assert set(m.group(1).split(",")) < set(names)


@pytest.mark.parametrize("kex", [GEX, "diffie-hellman-group18-sha512"])
def test_asyncssh_gex_group18_aes192_hmac_sha1_etm(server, keys, kex):
    """A third implementation (python3-asyncssh) with each new exchange and
    aes192-ctr + hmac-sha1-etm@openssh.com; asyncssh reports what it used."""
    import asyncio
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import asyncssh

    async def go():
        async with asyncssh.connect("127.0.0.1", port=server.port, username=USER,
                                    known_hosts=None, client_keys=[keys.user["ed25519"]],
                                    agent_path=None, kex_algs=[kex],
                                    encryption_algs=["aes192-ctr"],
                                    mac_algs=["hmac-sha1-etm@openssh.com"]) as conn:
            r = await conn.run("echo ok", check=False)
            return (r.stdout, conn.get_extra_info("send_cipher"),
                    conn.get_extra_info("send_mac"), conn.get_extra_info("recv_mac"))

    assert asyncio.run(asyncio.wait_for(go(), 60)) == \
        ("ok\n", "aes192-ctr", "hmac-sha1-etm@openssh.com", "hmac-sha1-etm@openssh.com")
