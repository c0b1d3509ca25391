"""systemd integration (issue 5): socket activation with systemd's own
tools (inetd mode for Accept=yes, LISTEN_FDS for Accept=no), Type=notify
readiness over NOTIFY_SOCKET, and the shipped units — installed by
`make install` and checked by `systemd-analyze verify`."""
import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import (REPO, SANITIZER_ENV, SERVER_KIND, WOMBATD, Server, free_port, have,
                      port_accepts, ssh)

pytestmark = [
    pytest.mark.skipif(SERVER_KIND != "wombatd", reason="wombatd's systemd support"),
]
UNITS = ["wombat.service", "wombat.socket", "wombat@.service"]


def need(prog):
    if not have(prog):
        pytest.skip(f"{prog} is not installed (package systemd, in bootstrap's TEST_DEPS)")


def wombatd_opts(keys):
    argv = ["-e", "-h", keys.host["ed25519"]]
    for opt in [f"AuthorizedKeysFile={keys.authorized_keys}", "StrictModes=no",
                "LogLevel=VERBOSE", "PidFile=none"]:
        argv += ["-o", opt]
    return argv


def activator(tmp_path, activate_args, wombatd_args):
    """systemd-socket-activate on a free port, wrapped as a Server."""
    port = free_port()
    # it gives the program a fresh environment: pass the sanitizers' on
    keep_env = [arg for name in SANITIZER_ENV for arg in ("-E", name)]
    argv = (["systemd-socket-activate", "-l", f"127.0.0.1:{port}"] + activate_args +
            keep_env + [WOMBATD] + wombatd_args)
    srv = Server("wombatd", port, str(tmp_path / f"activate-{port}.log"), argv)
    return srv.start()


def test_inetd_mode_accept_yes(tmp_path, keys):
    """Accept=yes: one `wombatd -i` per connection, the socket on stdin and
    stdout."""
    need("systemd-socket-activate")
    srv = activator(tmp_path, ["--accept", "--inetd"], ["-i"] + wombatd_opts(keys))
    try:
        for word in ("one", "two"):
            r = ssh(srv, "echo", word)
            assert r.returncode == 0 and r.stdout == word.encode() + b"\n", \
                (r.stderr, srv.log())
        log = srv.log()
        assert log.count("Spawned ") >= 2, log       # a process per connection
        assert "Server listening" not in log
    finally:
        srv.stop()


def test_listen_fds_accept_no(tmp_path, keys):
    """Accept=no: the daemon takes its listening socket from LISTEN_FDS
    instead of binding one."""
    need("systemd-socket-activate")
    srv = activator(tmp_path, [], ["-D"] + wombatd_opts(keys))
    try:
        for word in ("one", "two"):
            r = ssh(srv, "echo", word)
            assert r.returncode == 0 and r.stdout == word.encode() + b"\n", \
                (r.stderr, srv.log())
        log = srv.log()
        assert "Server listening" not in log and "Bind to port" not in log, log
        assert log.count("Spawned ") == 0              # one daemon, forking itself
    finally:
        srv.stop()


def recv_notify(sock, want, timeout=10):
    """Datagrams until one holds the line `want`; returns all lines seen."""
    seen = []
    deadline = time.monotonic() + timeout
    while want not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {want!r} from wombatd; got {seen}")
        sock.settimeout(left)
        seen += sock.recv(4096).decode().split("\n")
    return seen


def test_notify_ready_and_reload(tmp_path, keys):
    """Type=notify: READY=1 (with STATUS=) once listening; SIGHUP gives
    RELOADING=1 and then READY=1 again, and the daemon keeps serving."""
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    port = free_port()
    argv = [WOMBATD, "-D", "-p", str(port), "-o", "ListenAddress=127.0.0.1"] + wombatd_opts(keys)
    log = open(tmp_path / "notify.log", "wb")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True,
                            env=dict(os.environ, NOTIFY_SOCKET=path))
    try:
        seen = recv_notify(sock, "READY=1")
        assert any(l.startswith("STATUS=") for l in seen), seen
        assert port_accepts(port)                       # ready means listening
        proc.send_signal(signal.SIGHUP)
        seen = recv_notify(sock, "RELOADING=1")
        assert any(l.startswith("MONOTONIC_USEC=") for l in seen), seen
        recv_notify(sock, "READY=1")
        assert proc.poll() is None, "SIGHUP ended the daemon"
        srv = Server("wombatd", port, str(tmp_path / "notify.log"), argv)
        r = ssh(srv, "echo", "after-reload")
        assert r.returncode == 0 and r.stdout == b"after-reload\n", r.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
        sock.close()


def verify(units_dir):
    """systemd-analyze verify on the units; (returncode, all output)."""
    r = subprocess.run(["systemd-analyze", "verify"] +
                       [os.path.join(units_dir, u) for u in UNITS],
                       capture_output=True, text=True, timeout=60, cwd=units_dir)
    return r.returncode, (r.stdout + r.stderr).strip()


def test_make_install_installs_units_that_verify(tmp_path):
    """`make install` puts the three units in $(prefix)/lib/systemd/system,
    ExecStart pointing at the installed wombatd, and systemd-analyze verify
    has nothing to say about them."""
    need("systemd-analyze")
    prefix = tmp_path / "prefix"
    r = subprocess.run(["make", "-s", "install", f"prefix={prefix}"], cwd=REPO,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    unitdir = prefix / "lib" / "systemd" / "system"
    for u in UNITS:
        text = (unitdir / u).read_text()
        if u != "wombat.socket":
            assert f"{prefix}/sbin/wombatd" in text and "/usr/sbin/wombatd" not in text
    rc, out = verify(str(unitdir))
    assert rc == 0 and out == "", out


def test_shipped_units_verify_and_say_what_survives():
    """The units in systemd/ as shipped (binary path adjusted): clean
    verify; KillMode=process and Delegate=yes where sessions live."""
    need("systemd-analyze")
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        for u in UNITS:
            with open(os.path.join(REPO, "systemd", u)) as f:
                text = f.read()
            with open(os.path.join(d, u), "w") as f:
                f.write(text.replace("/usr/sbin/wombatd", WOMBATD))
        rc, out = verify(d)
        assert rc == 0 and out == "", out
    for u in ("wombat.service", "wombat@.service"):
        with open(os.path.join(REPO, "systemd", u)) as f:
            lines = [l.strip() for l in f if not l.startswith("#")]
        assert "KillMode=process" in lines and "Delegate=yes" in lines, u
    with open(os.path.join(REPO, "systemd", "wombat.service")) as f:
        assert "Type=notify" in f.read()
    with open(os.path.join(REPO, "systemd", "wombat.socket")) as f:
        assert "Accept=yes" in f.read()
