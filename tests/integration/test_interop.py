"""Real clients against a real server: OpenSSH ssh, PuTTY plink, paramiko,
asyncssh. Every supported algorithm is forced once and checked on the
client side to have really been negotiated."""
import asyncio
import hashlib
import os
import subprocess

import pytest

from conftest import (CIPHERS, HOSTKEY_ALGS, KEX_ALGS, MACS, USER,
                      have, negotiated, remote_stderr, ssh,
                      ssh_argv, throwaway_user)


def run_echo(server, opts, **kw):
    r = ssh(server, "echo", "hi", opts=opts, verbose=True, **kw)
    assert r.returncode == 0, r.stderr.decode(errors="replace")[-3000:]
    assert r.stdout == b"hi\n"
    return negotiated(r.stderr)


# ------------------------------------------------------------- algorithms

@pytest.mark.parametrize("hostkey", HOSTKEY_ALGS)
@pytest.mark.parametrize("kex", KEX_ALGS)
def test_kex_and_hostkey(server, kex, hostkey):
    got = run_echo(server, [f"KexAlgorithms={kex}", f"HostKeyAlgorithms={hostkey}"])
    assert got["kex"] == kex
    assert got["hostkey"] == hostkey


@pytest.mark.parametrize("cipher", CIPHERS)
def test_cipher(server, cipher):
    got = run_echo(server, [f"Ciphers={cipher}"])
    for direction in ("client->server", "server->client"):
        assert got[direction]["cipher"] == cipher


@pytest.mark.parametrize("mac", MACS)
def test_mac(server, mac):
    got = run_echo(server, ["Ciphers=aes128-ctr", f"MACs={mac}"])
    for direction in ("client->server", "server->client"):
        assert got[direction] == {"cipher": "aes128-ctr", "mac": mac,
                                  "compression": "none"}


@pytest.mark.parametrize("cipher", ["aes256-ctr"])
@pytest.mark.parametrize("mac", ["hmac-sha2-512-etm@openssh.com"])
def test_cipher_mac_pair(server, cipher, mac):
    got = run_echo(server, [f"Ciphers={cipher}", f"MACs={mac}"])
    assert got["client->server"]["cipher"] == cipher
    assert got["client->server"]["mac"] == mac


def cpu_has_aesni():
    with open("/proc/cpuinfo") as f:
        flags = next((line.split() for line in f if line.startswith("flags")), [])
    return all(f in flags for f in ("aes", "pclmulqdq", "ssse3", "sse4_1"))


@pytest.fixture(scope="module", params=["portable", "auto"])
def impl_server(start_server, request):
    """A server on the portable cipher code (WOMBAT_CRYPTO=portable) or on
    what the CPU selects (AES-NI, PCLMULQDQ, SSE2); its debug log says which
    AES code it runs."""
    saved = os.environ.get("WOMBAT_CRYPTO")
    if request.param == "portable":
        os.environ["WOMBAT_CRYPTO"] = "portable"
    else:
        os.environ.pop("WOMBAT_CRYPTO", None)
    try:
        srv = start_server()
    finally:
        os.environ.pop("WOMBAT_CRYPTO", None)
        if saved is not None:
            os.environ["WOMBAT_CRYPTO"] = saved
    want = "aesni" if request.param == "auto" and cpu_has_aesni() else "portable"
    assert srv.wait_log(rf"AES/GHASH implementation: {want}\b"), srv.log()[-2000:]
    yield srv
    srv.stop()


@pytest.mark.parametrize("cipher", CIPHERS)
def test_bulk_both_ways(impl_server, cipher):
    """1 MiB of random data up and back down through cat: dozens of full
    packets each way on one key, opened and sealed by our cipher code."""
    data = os.urandom(1 << 20)
    r = ssh(impl_server, "cat", opts=[f"Ciphers={cipher}"], input=data, verbose=True)
    assert r.returncode == 0, r.stderr[-3000:]
    assert hashlib.sha256(r.stdout).hexdigest() == hashlib.sha256(data).hexdigest()
    assert negotiated(r.stderr)["server->client"]["cipher"] == cipher


def test_compression_round_trip(server):
    data = (b"wombat " * 4682 + os.urandom(32 * 1024))[:64 * 1024]
    assert len(data) == 64 * 1024
    r = ssh(server, "cat", opts=["Compression=yes"], input=data, verbose=True)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout == data
    got = negotiated(r.stderr)
    for direction in ("client->server", "server->client"):
        assert got[direction]["compression"] == "zlib@openssh.com"


# ---------------------------------------------------------- exec semantics

def test_exit_status(server):
    r = ssh(server, "exit 7")
    assert r.returncode == 7


def test_stdout_stderr_separated(server):
    r = ssh(server, "echo out; echo err >&2")
    assert r.returncode == 0
    assert r.stdout == b"out\n"
    assert remote_stderr(server, r.stderr) == b"err\n"


def test_stdin_cat(server):
    data = b"line one\nline two\n\x00\xff binary too\n"
    r = ssh(server, "cat", input=data)
    assert r.returncode == 0
    assert r.stdout == data


def test_stdin_sha256(server):
    data = os.urandom(300 * 1024)
    r = ssh(server, "sha256sum", input=data)
    assert r.returncode == 0
    assert r.stdout.split()[0].decode() == hashlib.sha256(data).hexdigest()


def upload_hash(server, path, opts=(), verbose=False):
    """Pipe a file into `sha256sum` on the server; returns (CompletedProcess, hex)."""
    with open(path, "rb") as f:
        argv = ssh_argv(server, "sha256sum", opts=opts, verbose=verbose)
        r = subprocess.run(argv, stdin=f, capture_output=True, timeout=120)
    return r, r.stdout.split()[0].decode() if r.stdout else ""


def test_upload_64m(server, bigfile):
    path, digest = bigfile
    r, got = upload_hash(server, path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert got == digest


def test_download_64m(server, bigfile):
    path, digest = bigfile
    argv = ssh_argv(server, "cat", path)
    h = hashlib.sha256()
    n = 0
    with subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as p:
        while True:
            chunk = p.stdout.read(1 << 20)
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
        err = p.stderr.read()
        rc = p.wait(timeout=120)
    assert rc == 0, err[-2000:]
    assert n == 64 << 20
    assert h.hexdigest() == digest


def test_client_rekey_during_transfer(server, bigfile):
    path, digest = bigfile
    r, got = upload_hash(server, path, opts=["RekeyLimit=1M"], verbose=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert got == digest
    kexinits = r.stderr.count(b"SSH2_MSG_KEXINIT sent")
    assert kexinits > 10, f"only {kexinits} key exchanges for 64 MiB with RekeyLimit=1M"


# -------------------------------------------------------------- user auth

@pytest.mark.parametrize("name", ["ed25519", "ecdsa256", "ecdsa384", "ecdsa521"])
def test_pubkey_auth(server, keys, name):
    r = ssh(server, "echo", "hi", key=keys.user[name])
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"hi\n"


@pytest.mark.parametrize("alg", ["rsa-sha2-256", "rsa-sha2-512"])
def test_pubkey_auth_rsa(server, keys, alg):
    r = ssh(server, "echo", "hi", key=keys.user["rsa"],
            opts=[f"PubkeyAcceptedAlgorithms={alg}"], verbose=True)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout == b"hi\n"


def test_wrong_key_refused(server, keys):
    mark = server.mark()
    r = ssh(server, "echo", "hi", key=keys.wrong[0])
    assert r.returncode == 255
    assert r.stdout == b""
    # the failure is logged, naming user and client address
    line = rf"^.*\b{USER}\b.*127\.0\.0\.1.*$|^.*127\.0\.0\.1.*\b{USER}\b.*$"
    m = server.wait_log(line, since=mark)
    assert m, server.log(mark)
    assert server.wait_log(r"fail|refus|denied|invalid|closed|not allowed|disconnect",
                           since=mark), server.log(mark)


def test_max_auth_tries(start_server, keys):
    """Three wrong keys before the right one: MaxAuthTries=2 stops the
    client before it gets there, MaxAuthTries=6 lets it through."""
    order = keys.wrong + [keys.user["ed25519"]]
    strict = start_server(["MaxAuthTries=2"])
    try:
        r = ssh(strict, "echo", "hi", key=order)
        assert r.returncode == 255
        assert r.stdout == b""
    finally:
        strict.stop()
    lenient = start_server(["MaxAuthTries=6"])
    try:
        r = ssh(lenient, "echo", "hi", key=order)
        assert r.returncode == 0, r.stderr
        assert r.stdout == b"hi\n"
    finally:
        lenient.stop()


# ----------------------------------------------------- password (root only)

PW_USER = "wombat-pwtest"
PW_PASS = "correct horse battery 7"


@pytest.fixture
def pw_user():
    with throwaway_user(PW_USER, "the password test"):
        subprocess.run(["chpasswd"], input=f"{PW_USER}:{PW_PASS}\n", text=True,
                       check=True)
        yield PW_USER


def test_password_auth(start_server, pw_user):
    import paramiko
    srv = start_server(["PasswordAuthentication=yes"])
    try:
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        with pytest.raises(paramiko.AuthenticationException):
            client.connect("127.0.0.1", port=srv.port, username=pw_user,
                           password="wrong password", look_for_keys=False,
                           allow_agent=False, timeout=10)
        client.close()

        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        client.connect("127.0.0.1", port=srv.port, username=pw_user, password=PW_PASS,
                       look_for_keys=False, allow_agent=False, timeout=10)
        try:
            _, out, _ = client.exec_command("id -un")
            assert out.read() == f"{pw_user}\n".encode()
            assert out.channel.recv_exit_status() == 0
        finally:
            client.close()
        assert srv.alive()
    finally:
        srv.stop()


# ------------------------------------------------------------ other clients

@pytest.mark.skipif(not (have("plink") and have("puttygen")), reason="putty-tools missing")
def test_plink(server, keys, tmp_path):
    """PuTTY closes the channel as soon as it has both EOFs, so the exit
    status must not trail the server's EOF: run a few times to catch that."""
    ppk = str(tmp_path / "key.ppk")
    subprocess.run(["puttygen", keys.user["ed25519"], "-O", "private", "-o", ppk],
                   check=True, capture_output=True, stdin=subprocess.DEVNULL)
    argv = ["plink", "-batch", "-P", str(server.port), "-i", ppk]
    for fp in keys.host_fingerprints().values():
        argv += ["-hostkey", fp]
    argv += [f"{USER}@127.0.0.1", "echo hi; exit 3"]
    for attempt in range(6):
        r = subprocess.run(argv, capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
        assert r.stdout == b"hi\n", r.stderr
        assert r.returncode == 3, f"attempt {attempt}: exit status lost ({r.returncode})"


def paramiko_client(server, keys, key_name="ed25519"):
    import paramiko
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect("127.0.0.1", port=server.port, username=USER,
                   key_filename=keys.user[key_name], look_for_keys=False,
                   allow_agent=False, timeout=10)
    return client


def test_paramiko_exec(server, keys):
    client = paramiko_client(server, keys)
    try:
        _, out, err = client.exec_command("echo out; echo err >&2; exit 5")
        assert out.read() == b"out\n"
        assert remote_stderr(server, err.read()) == b"err\n"
        assert out.channel.recv_exit_status() == 5
    finally:
        client.close()


def test_paramiko_stdin_and_sessions(server, keys):
    """Two sessions in turn on one connection; stdin with EOF."""
    client = paramiko_client(server, keys, "ecdsa256")
    try:
        data = os.urandom(200 * 1024)
        stdin, out, _ = client.exec_command("sha256sum")
        stdin.write(data)
        stdin.channel.shutdown_write()
        assert out.read().split()[0].decode() == hashlib.sha256(data).hexdigest()
        assert out.channel.recv_exit_status() == 0
        _, out, _ = client.exec_command("echo second")
        assert out.read() == b"second\n"
    finally:
        client.close()


def test_asyncssh_exec(server, keys):
    import asyncssh

    async def go():
        async with asyncssh.connect("127.0.0.1", port=server.port, username=USER,
                                    known_hosts=None, client_keys=[keys.user["ed25519"]],
                                    agent_path=None) as conn:
            r = await conn.run("echo out; echo err >&2; exit 4", check=False)
            return r.stdout, r.stderr, r.exit_status

    stdout, stderr, status = asyncio.run(asyncio.wait_for(go(), 30))
    assert stdout == "out\n"
    assert remote_stderr(server, stderr) == "err\n"
    assert status == 4
