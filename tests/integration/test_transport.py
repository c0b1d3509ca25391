"""Transport and daemon behaviour beyond the interop matrix: server-initiated
rekeying, LoginGraceTime, an unprivileged daemon with a host key generated on
first start, and the static build."""
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import (REPO, SANITIZER_ENV, SERVER_KIND, WOMBATD, fingerprint, ssh_argv,
                      free_port, port_accepts, ssh, throwaway_user)

wombat_only = pytest.mark.skipif(SERVER_KIND != "wombatd",
                                 reason="wombatd-specific behaviour")


@wombat_only
def test_server_initiated_rekey_during_download(start_server, bigfile):
    """RekeyLimit on the server: wombatd starts the re-exchanges itself while
    64 MiB flow to the client, and every byte arrives."""
    path, digest = bigfile
    srv = start_server(["RekeyLimit=4M"])
    mark = srv.mark()
    r = ssh(srv, f"cat {path}", timeout=120)
    assert r.returncode == 0, r.stderr
    assert hashlib.sha256(r.stdout).hexdigest() == digest
    log = srv.log(mark)
    started = len(re.findall(r"starting rekey", log))
    done = len(re.findall(r"key exchange done", log))
    assert started >= 8, f"server started only {started} rekeys for 64 MiB at 4M"
    assert done >= started + 1


@wombat_only
def test_login_grace_time_closes_idle_unauthenticated(start_server):
    srv = start_server(["LoginGraceTime=2"])
    mark = srv.mark()
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(b"SSH-2.0-idler\r\n")
        start = time.monotonic()
        s.settimeout(10)
        while True:
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
        elapsed = time.monotonic() - start
    assert elapsed < 6, f"connection stayed {elapsed:.1f}s with LoginGraceTime 2"
    assert srv.wait_log(r"LoginGraceTime", since=mark)
    assert srv.alive()


UNPRIV_USER = "wombat-unpriv"


@pytest.fixture
def unpriv_user():
    with throwaway_user(UNPRIV_USER, "an unprivileged daemon test") as name:
        yield name


def _as_user(user, path):
    shutil.chown(path, user, user)


@wombat_only
def test_unprivileged_daemon_generates_key_and_admits_only_its_user(unpriv_user, keys,
                                                                    tmp_path):
    """wombatd run by an ordinary user: no config, no host key — it makes an
    ed25519 key at the per-user default path, logs its fingerprint, and lets
    only that user in."""
    home = os.path.expanduser(f"~{unpriv_user}")
    ak = os.path.join(home, "authorized_keys")
    with open(keys.user["ed25519"] + ".pub") as src, open(ak, "w") as dst:
        dst.write(src.read())
    os.chmod(ak, 0o600)
    _as_user(unpriv_user, ak)
    port = free_port()
    log_path = tmp_path / "unpriv.log"
    log = open(log_path, "w")
    env = {"PATH": "/usr/bin:/bin", "HOME": home, **SANITIZER_ENV}
    proc = subprocess.Popen(
        ["/usr/sbin/runuser", "-u", unpriv_user, "--", WOMBATD, "-D", "-e", "-p", str(port),
         "-o", "ListenAddress=127.0.0.1", "-o", f"AuthorizedKeysFile={ak}",
         "-o", "PidFile=none"],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 15
        while not port_accepts(port):
            assert proc.poll() is None, open(log_path).read()
            assert time.monotonic() < deadline, open(log_path).read()
            time.sleep(0.1)
        keyfile = os.path.join(home, ".config/wombat/ssh_host_ed25519_key")
        assert os.path.exists(keyfile)
        assert os.stat(keyfile).st_mode & 0o077 == 0
        fp = fingerprint(keyfile + ".pub")
        assert fp in open(log_path).read()

        class Srv:
            pass
        srv = Srv()
        srv.port = port
        r = ssh(srv, "id -un", user=unpriv_user, verbose=True, text=True)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == unpriv_user
        # the host key the client saw is the generated one
        assert fp.split(":", 1)[1] in r.stderr
        r = ssh(srv, "id -un", user="root")
        assert r.returncode == 255
        assert re.search(r"root.*only lets that user in", open(log_path).read())
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_static_build(tmp_path):
    """./configure --enable-static gives a statically linked wombatd that runs."""
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True,
                           text=True)
    if files.returncode != 0:
        pytest.skip("not a git checkout")
    tree = tmp_path / "src"
    tree.mkdir()
    for name in files.stdout.split():
        dst = tree / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.join(REPO, name), dst)
    run = lambda *argv: subprocess.run(argv, cwd=tree, capture_output=True, text=True,
                                       timeout=600)
    assert run("autoconf").returncode == 0
    r = run("./configure", "--enable-static")
    assert r.returncode == 0, r.stdout + r.stderr
    r = run("make", "-j2", "wombatd")
    assert r.returncode == 0, r.stderr[-3000:]
    info = run("file", str(tree / "wombatd")).stdout
    # the hardened build links static-pie where the toolchain can
    assert "statically linked" in info or "static-pie linked" in info, info
    r = run(str(tree / "wombatd"), "-t", "-f", "/dev/null", "-h",
            os.path.join(REPO, "tests", "integration", "nonexistent"))
    assert r.returncode != 0 and "nonexistent" in r.stderr


def _raw_connection(port):
    """A TCP connection that sends a version line and then waits, as an
    unauthenticated client would. Returns (socket, first bytes received)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"SSH-2.0-startups_test\r\n")
    try:
        first = s.recv(256)
    except (ConnectionResetError, socket.timeout):
        first = b""
    return s, first


@wombat_only
def test_max_startups_limits_unauthenticated_connections(start_server):
    """MaxStartups 2: two connections still authenticating fill the quota, a
    third is dropped without a banner and logged; authenticated sessions do
    not count, and the quota frees up when a pending connection goes."""
    srv = start_server(["MaxStartups=2"])
    held = subprocess.Popen(ssh_argv(srv, "sleep 4"), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sockets = []
    try:
        # the session's exec line alone: "Accepted publickey" is logged before
        # the post-auth process closes its MaxStartups pipe to the listener,
        # and CI once had a raw connection dropped in that gap
        assert srv.wait_log(r'exec "sleep 4"', timeout=10)
        for _ in range(2):
            s, first = _raw_connection(srv.port)
            sockets.append(s)
            assert first.startswith(b"SSH-2.0-"), first
        mark = srv.mark()
        s, first = _raw_connection(srv.port)
        s.close()
        assert first == b"", first
        assert srv.wait_log(r"drop connection from 127\.0\.0\.1: MaxStartups 2:", since=mark)
        sockets.pop().close()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            r = ssh(srv, "echo in", text=True)
            if r.returncode == 0:
                break
            time.sleep(0.2)
        assert r.returncode == 0 and r.stdout == "in\n", r.stderr
    finally:
        for s in sockets:
            s.close()
        held.wait(timeout=30)
