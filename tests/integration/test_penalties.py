"""Per-source penalties (PerSourcePenalties, PerSourceNetBlockSize,
PerSourcePenaltyExemptList): connections from an address block that keeps
failing are refused for a while; everyone else is served throughout.

All traffic is on loopback, so the misbehaving client comes from 127.0.0.2
and the good one from 127.0.0.3 (127.0.0.5 where a third is needed; all
are local addresses on Linux).

The crash tests drive the listener directly (a connection process that dies
of SIGSEGV); the authfail / noauth / grace-exceeded / protocol-error tests
depend on the connection process reporting how it ended (conn_run's exit
status, enum conn_end in src/conn.h)."""
import os
import re
import resource
import signal
import socket
import struct
import subprocess
import time
from pathlib import Path

import paramiko
import pytest

from conftest import SERVER_KIND, Server, free_port, server_argv, ssh

BAD = "127.0.0.2"
GOOD = "127.0.0.3"
OTHER = "127.0.0.5"
WOMBATD = Path(__file__).resolve().parents[2] / "wombatd"

pytestmark = pytest.mark.skipif(
    os.environ.get("WOMBAT_TEST_SERVER", "wombatd") != "wombatd",
    reason="PerSourcePenalties is OpenSSH 9.8+; this machine's sshd is older")

# Under AddressSanitizer (make check-asan) the SIGSEGV crash_from sends
# would be caught by ASan's handler, reported and turned into exit(1): the
# servers here run with handle_segv=0, so the connection process dies by
# the signal, as in the release build (other tests keep ASan's handler).
CRASH_ENV = ({"ASAN_OPTIONS": os.environ["ASAN_OPTIONS"] + ":handle_segv=0"}
             if os.environ.get("ASAN_OPTIONS") else None)


@pytest.fixture
def start_server(start_server):
    """conftest's start_server, with CRASH_ENV."""
    def start(extra_opts=(), **kw):
        kw.setdefault("env", CRASH_ENV)
        return start_server(extra_opts, **kw)
    return start


# ------------------------------------------------------------------ clients

def bound_socket(server, src, timeout=10):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(("127.0.0.1", server.port))
    return s


def greeting(server, src):
    """What the server sends first to a client from src: its version line,
    or b"" when it closes the connection unanswered (refused)."""
    s = bound_socket(server, src)
    data = b""
    try:
        while b"\n" not in data:
            chunk = s.recv(256)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    finally:
        s.close()
    return data


def refused(server, src):
    return greeting(server, src) == b""


def login(server, src, key=None):
    """OpenSSH ssh from src; CompletedProcess."""
    return ssh(server, "echo", "ok", key=key, opts=(f"BindAddress={src}",))


def assert_served(server, src):
    r = login(server, src)
    assert r.returncode == 0 and r.stdout == b"ok\n", \
        f"client from {src} not served: rc={r.returncode} {r.stderr!r}\n{server.log()[-3000:]}"


def wait_reaped(pid, timeout=10):
    """Until the listener has waited for pid (a zombie still answers kill 0)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)
    raise AssertionError(f"connection process {pid} not reaped")


def crash_from(server, src):
    """Open a connection from src and make its connection process die of
    SIGSEGV (no core file), as a crash the client provoked would."""
    mark = server.mark()
    s = bound_socket(server, src)
    try:
        assert s.recv(256).startswith(b"SSH-2.0-")
        port = s.getsockname()[1]
        m = server.wait_log(rf"\[(\d+)\]: \[{re.escape(src)}:{port}\] Connection from",
                            since=mark, timeout=10)
        assert m, f"connection process for {src}:{port} not found in the log"
        pid = int(m.group(1))
        resource.prlimit(pid, resource.RLIMIT_CORE, (0, 0))
        server.expect_crash(pid)
        os.kill(pid, signal.SIGSEGV)
        wait_reaped(pid)
        assert server.wait_log(rf"connection process {pid} killed by signal SIGSEGV",
                               since=mark, timeout=10), server.log(mark)
    finally:
        s.close()


def fail_auth_from(server, src, keys):
    r = login(server, src, key=keys.wrong[0])
    assert r.returncode == 255 and b"Permission denied" in r.stderr, r.stderr


def kex_only_from(server, src, wait_for_close=False):
    """paramiko from src: key exchange, no authentication, then leave (or,
    with wait_for_close, stay until the server drops the connection)."""
    t = paramiko.Transport(bound_socket(server, src))
    try:
        t.start_client(timeout=10)
        if wait_for_close:
            deadline = time.monotonic() + 20
            while t.is_active() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not t.is_active(), "server did not enforce LoginGraceTime"
    finally:
        t.close()


def protocol_error_from(server, src):
    """A version line, then a packet whose length field is absurd."""
    s = bound_socket(server, src)
    try:
        assert s.recv(256).startswith(b"SSH-2.0-")
        s.sendall(b"SSH-2.0-penalty_test\r\n" + struct.pack(">I", 0xfffffff0) + b"\0" * 64)
        try:
            while s.recv(4096):
                pass
        except (ConnectionResetError, socket.timeout):
            pass
    finally:
        s.close()


def penalty_lines(server, block, since=0):
    return re.findall(rf"penalty: {re.escape(block)} refused for \d+ s: .*",
                      server.log(since))


def assert_penalised(server, cause, block=f"{BAD}/32"):
    m = server.wait_log(rf"penalty: {re.escape(block)} refused for \d+ s: {cause}", timeout=10)
    assert m, f"no penalty for {block} ({cause}) logged:\n{server.log()[-3000:]}"
    for _ in range(3):
        assert refused(server, BAD), f"{BAD} still served:\n{server.log()[-3000:]}"
    assert_served(server, GOOD)
    assert len(penalty_lines(server, block)) == 1, server.log()


# ------------------------------------------- listener side (crash penalties)

def test_crash_refuses_block_and_serves_others(start_server):
    srv = start_server(["PerSourcePenalties=crash:120 min:5"])
    assert_served(srv, BAD)
    assert_served(srv, GOOD)
    crash_from(srv, BAD)
    assert_penalised(srv, "crash")
    srv.stop()


def test_min_threshold_and_expiry(start_server):
    """crash:8 min:12: one crash is below min; two are over it, and the
    block is served again once the penalty has run out."""
    srv = start_server(["PerSourcePenalties=crash:8 min:12 noauth:0"])
    crash_from(srv, BAD)
    assert not refused(srv, BAD)
    crash_from(srv, BAD)
    assert srv.wait_log(rf"penalty: {BAD}/32 refused for \d+ s: crash", timeout=10)
    assert refused(srv, BAD) and refused(srv, BAD)
    assert_served(srv, GOOD)
    m = srv.wait_log(rf"penalty: {BAD}/32 no longer refused \((\d+) connections? refused\)",
                     timeout=30)
    assert m and int(m.group(1)) >= 2, srv.log()[-3000:]
    assert_served(srv, BAD)
    srv.stop()


def test_netblock_size_covers_neighbours(start_server):
    srv = start_server(["PerSourcePenalties=crash:120 min:5", "PerSourceNetBlockSize=30"])
    crash_from(srv, BAD)                           # 127.0.0.0/30 holds .0-.3
    assert srv.wait_log(r"penalty: 127\.0\.0\.0/30 refused for \d+ s: crash", timeout=10)
    assert refused(srv, GOOD)
    assert_served(srv, OTHER)
    srv.stop()


def test_exempt_list_keeps_source_served(start_server):
    srv = start_server(["PerSourcePenalties=crash:120 min:5",
                        f"PerSourcePenaltyExemptList={BAD}"])
    for _ in range(3):
        crash_from(srv, BAD)
    assert_served(srv, BAD)
    assert "refused for" not in srv.log()
    crash_from(srv, OTHER)                         # not exempt: penalised
    assert srv.wait_log(rf"penalty: {OTHER}/32 refused for \d+ s: crash", timeout=10)
    assert refused(srv, OTHER)
    assert_served(srv, BAD)
    srv.stop()


def test_penalties_no_disables(start_server):
    srv = start_server(["PerSourcePenalties=no"])
    for _ in range(3):
        crash_from(srv, BAD)
    assert_served(srv, BAD)
    assert "refused for" not in srv.log()
    srv.stop()


def test_default_is_on(start_server):
    """Defaults (crash:90 min:15): one crash is enough."""
    srv = start_server()
    crash_from(srv, BAD)
    assert_penalised(srv, "crash")
    srv.stop()


def test_table_full_deny_all(start_server):
    srv = start_server(["PerSourcePenalties=crash:120 min:5 max-sources4:1 overflow:deny-all"])
    crash_from(srv, BAD)
    assert srv.wait_log(rf"penalty: {BAD}/32 refused", timeout=10)
    assert refused(srv, GOOD)
    assert srv.wait_log(r"table of IPv4 sources full \(1\); refusing every client", timeout=5)
    srv.stop()


def test_table_full_permissive(start_server):
    srv = start_server(["PerSourcePenalties=crash:120 min:5 max-sources4:1"])
    crash_from(srv, BAD)
    assert srv.wait_log(rf"penalty: {BAD}/32 refused", timeout=10)
    crash_from(srv, GOOD)                          # no room: not penalised
    assert srv.wait_log(r"table of IPv4 sources full \(1\); not penalising", timeout=5)
    assert_served(srv, GOOD)
    assert refused(srv, BAD)
    srv.stop()


def test_reload_keeps_penalties_and_no_lifts_them(keys, tmp_path):
    cfg = tmp_path / "sshd_config"
    cfg.write_text("PerSourcePenalties crash:300 min:5\n")
    argv = server_argv(SERVER_KIND, free_port(), list(keys.host.values()),
                       keys.authorized_keys, []) + ["-f", str(cfg)]
    srv = Server(SERVER_KIND, int(argv[argv.index("-p") + 1]), str(tmp_path / "log"),
                 argv, CRASH_ENV).start()
    try:
        crash_from(srv, BAD)
        assert srv.wait_log(rf"penalty: {BAD}/32 refused for", timeout=10)
        cfg.write_text("PerSourcePenalties crash:300 min:5\nPerSourcePenaltyExemptList 10.9.9.9\n")
        mark = srv.mark()
        os.kill(srv.pid, signal.SIGHUP)
        assert srv.wait_log(r"configuration re-read", since=mark), srv.log(mark)
        assert refused(srv, BAD)                   # a reload forgives no one
        cfg.write_text("PerSourcePenalties no\n")
        mark = srv.mark()
        os.kill(srv.pid, signal.SIGHUP)
        assert srv.wait_log(r"configuration re-read", since=mark), srv.log(mark)
        assert_served(srv, BAD)
    finally:
        srv.stop()


# ------------------- causes reported by the connection process (conn_run)

def test_authfail(start_server, keys):
    """authfail:200 min:300: one failed login is not enough, two are
    (penalties decay as time passes: the margin is for a slow, loaded
    machine and the sanitizer build)."""
    srv = start_server(["PerSourcePenalties=authfail:200 min:300 noauth:0"])
    fail_auth_from(srv, BAD, keys)
    assert_served(srv, BAD)
    fail_auth_from(srv, BAD, keys)
    assert_penalised(srv, "authfail")
    srv.stop()


def test_authfail_exempt(start_server, keys):
    srv = start_server(["PerSourcePenalties=authfail:60 min:5",
                        f"PerSourcePenaltyExemptList={BAD}"])
    for _ in range(3):
        fail_auth_from(srv, BAD, keys)
    assert_served(srv, BAD)
    assert "refused for" not in srv.log()
    fail_auth_from(srv, OTHER, keys)               # not exempt: penalised
    assert srv.wait_log(rf"penalty: {OTHER}/32 refused for \d+ s: authfail", timeout=10)
    assert refused(srv, OTHER)
    assert_served(srv, BAD)
    srv.stop()


def test_noauth(start_server):
    srv = start_server(["PerSourcePenalties=noauth:100 min:250"])
    for _ in range(3):
        kex_only_from(srv, BAD)
    assert_penalised(srv, "noauth")
    srv.stop()


def test_grace_exceeded(start_server):
    srv = start_server(["LoginGraceTime=2", "PerSourcePenalties=grace-exceeded:60 noauth:0 min:5"])
    kex_only_from(srv, BAD, wait_for_close=True)
    assert_penalised(srv, "grace-exceeded")
    srv.stop()


def test_protocol_error(start_server):
    srv = start_server(["PerSourcePenalties=noauth:60 min:5"])
    protocol_error_from(srv, BAD)
    assert_penalised(srv, "protocol error")
    srv.stop()


# --------------------------------------------------------- configuration

def run_wombatd(*args):
    return subprocess.run([str(WOMBATD), *map(str, args)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=20)


def test_dump_shows_defaults_and_values(keys, tmp_path):
    r = run_wombatd("-T", "-h", keys.host["ed25519"])
    assert r.returncode == 0, r.stderr
    assert ("persourcepenalties crash:90s authfail:5s noauth:1s grace-exceeded:10s max:600s "
            "min:15s max-sources4:65536 max-sources6:65536 overflow:permissive "
            "overflow6:permissive\n") in r.stdout
    assert "persourcenetblocksize 32:128\n" in r.stdout
    assert "persourcepenaltyexemptlist none\n" in r.stdout
    conf = tmp_path / "p.conf"
    conf.write_text("PerSourcePenalties authfail:1m min:5 overflow:deny-all\n"
                    "PerSourceNetBlockSize 24:64\n"
                    "PerSourcePenaltyExemptList 10.0.0.0/8,2001:db8:0::1\n")
    r = run_wombatd("-T", "-h", keys.host["ed25519"], "-f", conf)
    assert r.returncode == 0, r.stderr
    assert ("persourcepenalties crash:90s authfail:60s noauth:1s grace-exceeded:10s "
            "max:600s min:5s max-sources4:65536 max-sources6:65536 overflow:deny-all "
            "overflow6:permissive\n") in r.stdout
    assert "persourcenetblocksize 24:64\n" in r.stdout
    assert "persourcepenaltyexemptlist 10.0.0.0/8,2001:db8::1\n" in r.stdout
    # what -T prints reads back to the same
    again = tmp_path / "again.conf"
    again.write_text("".join(l + "\n" for l in r.stdout.splitlines() if l.startswith("persource")))
    r2 = run_wombatd("-T", "-h", keys.host["ed25519"], "-f", again)
    assert r2.returncode == 0, r2.stderr
    assert [l for l in r2.stdout.splitlines() if l.startswith("persource")] == \
        [l for l in r.stdout.splitlines() if l.startswith("persource")]
    r = run_wombatd("-T", "-h", keys.host["ed25519"], "-o", "PerSourcePenalties=no")
    assert "persourcepenalties no\n" in r.stdout


@pytest.mark.parametrize("line,message", [
    ("PerSourcePenalties authfail:5 bogus:1", "PerSourcePenalties: unknown penalty keyword 'bogus'"),
    ("PerSourcePenalties no crash:1", "PerSourcePenalties: 'no' must stand alone"),
    ("PerSourcePenalties crash:soon", "PerSourcePenalties: bad time value in 'crash:soon'"),
    ("PerSourcePenalties max-sources4:0", "PerSourcePenalties: bad number in 'max-sources4:0'"),
    ("PerSourcePenalties overflow:open", "PerSourcePenalties: bad value in 'overflow:open'"),
    ("PerSourcePenalties", "PerSourcePenalties: missing value"),
    ("PerSourceNetBlockSize 24:129", "PerSourceNetBlockSize: bad value '24:129'"),
    ("PerSourcePenaltyExemptList 10.0.0.0/8,ten", "PerSourcePenaltyExemptList: bad address"),
    ("Match User x\n  PerSourcePenalties no", "PerSourcePenalties: not allowed in a Match block"),
])
def test_bad_values_name_file_line_option(keys, tmp_path, line, message):
    conf = tmp_path / "bad.conf"
    conf.write_text("Port 2222\n" + line + "\n")
    r = run_wombatd("-t", "-h", keys.host["ed25519"], "-f", conf)
    assert r.returncode == 1
    lineno = 2 + line.count("\n")
    assert f"{conf}:{lineno}: {message}" in r.stderr, r.stderr
