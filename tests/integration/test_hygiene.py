"""Process hygiene: what a session's command inherits, close-on-exec on
every descriptor the daemon holds, and no descriptor or memory leak in the
listener over many logins."""
import os
import re
import shutil
import socket
import tempfile
import threading
import time

import paramiko
import pytest

from conftest import IS_ROOT, SANITIZED, SERVER_KIND, USER, ssh, throwaway_user

O_CLOEXEC = 0o2000000
wombatd_only = pytest.mark.skipif(SERVER_KIND != "wombatd",
                                  reason="looks at wombatd's own processes")


@pytest.fixture(scope="module")
def user():
    """A throw-away user with /bin/sh: root's .bashrc here runs pyenv and
    makes each root login slow."""
    if not IS_ROOT:
        yield USER
        return
    # unique per run: a parallel run (another checkout) must not delete it
    with throwaway_user(f"wbxhyg{os.getpid()}", "a fast-shell login user") as name:
        yield name


@pytest.fixture(scope="module")
def srv(start_server, keys):
    d = tempfile.mkdtemp(prefix="wbx-hygiene-")
    os.chmod(d, 0o755)
    path = os.path.join(d, "authorized_keys")
    shutil.copy(keys.authorized_keys, path)
    os.chmod(path, 0o644)
    server = start_server(authorized_keys=path)
    yield server
    server.stop()
    shutil.rmtree(d, ignore_errors=True)


def fd_names(listing):
    """fd numbers from `ls -l /proc/self/fd` output."""
    return sorted(int(m) for m in re.findall(rb"^l\S+ .* (\d+) -> ", listing, re.M))


@pytest.mark.parametrize("tty", [False, True], ids=["no pty", "pty"])
def test_session_child_holds_only_stdio(srv, user, tty):
    """The command sees 0, 1, 2 and the directory ls itself opens (3)."""
    opts = ["RequestTTY=force"] if tty else ["RequestTTY=no"]
    r = ssh(srv, "exec ls -l /proc/self/fd", user=user, opts=opts)
    assert r.returncode == 0, r.stderr
    assert fd_names(r.stdout) == [0, 1, 2, 3], r.stdout.decode()


def fd_flags(pid):
    """{fd: flags} of a process, from /proc/PID/fdinfo."""
    out = {}
    for name in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{name}") as f:
                m = re.search(r"^flags:\s+([0-7]+)", f.read(), re.M)
        except FileNotFoundError:
            continue                # closed meanwhile
        out[int(name)] = int(m.group(1), 8)
    return out


def not_cloexec(pid):
    return {fd: oct(fl) for fd, fl in fd_flags(pid).items()
            if fd > 2 and not fl & O_CLOEXEC}


def children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


def connection_process(server, sock, since):
    """The connection process serving sock (ours, from the log line naming
    its client port), not another one that may still be on its way out."""
    port = sock.getsockname()[1]
    m = server.wait_log(rf"\[(\d+)\]: \[127\.0\.0\.1:{port}\] Connection from",
                        since=since, timeout=10)
    assert m, f"no connection process for client port {port}:\n{server.log(since)}"
    return int(m.group(1))


def wait_no_connections(server, timeout=15):
    """Until the listener has no connection process left (earlier tests'
    may still be ending: a sanitizer build checks for leaks at exit)."""
    deadline = time.monotonic() + timeout
    while children(server.pid):
        assert time.monotonic() < deadline, f"connections still running: {children(server.pid)}"
        time.sleep(0.05)


@wombatd_only
def test_every_daemon_fd_is_close_on_exec(srv, user, keys):
    """Listener, a connection process before login and one with a running
    session: every descriptor but 0, 1, 2 has O_CLOEXEC."""
    wait_no_connections(srv)
    assert not_cloexec(srv.pid) == {}, "listener"
    listener_fds = len(open_fds(srv.pid))
    key = paramiko.Ed25519Key.from_private_key_file(keys.user["ed25519"])
    mark = srv.mark()
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    t = paramiko.Transport(sock)
    try:
        t.start_client(timeout=10)
        pid = connection_process(srv, sock, mark)
        assert not_cloexec(pid) == {}, "connection process before login"
        # the listener holds a MaxStartups pipe for an unauthenticated one
        assert len(open_fds(srv.pid)) > listener_fds
        assert not_cloexec(srv.pid) == {}, "listener with a connection pending"
        t.auth_publickey(user, key)
        ch = t.open_session(timeout=10)
        ch.get_pty()
        ch.exec_command("sleep 30")
        time.sleep(0.5)
        assert len(fd_flags(pid)) > 3
        assert not_cloexec(pid) == {}, "connection process with a session"
        assert not_cloexec(srv.pid) == {}, "listener with a session open"
    finally:
        t.close()


def pss_kib(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        return int(re.search(r"^Pss:\s+(\d+) kB", f.read(), re.M).group(1))


def open_fds(pid):
    return sorted(int(n) for n in os.listdir(f"/proc/{pid}/fd"))


# make check runs 500 (30-60 s on 2 shared cores), make check-asan 100
# (each login there costs seconds; LeakSanitizer checks every connection
# process at its exit anyway); `make leak-run` runs 2,000
# (WOMBAT_LEAK_LOGINS) and prints the figures.
LOGINS = int(os.environ.get("WOMBAT_LEAK_LOGINS", "100" if SANITIZED else "500"))


@wombatd_only
def test_no_leak_over_many_logins(srv, user):
    """LOGINS sequential `ssh host true` logins leave the listener with the
    same descriptors, no connection process behind, and its PSS within
    1 MiB."""
    assert ssh(srv, "true", user=user).returncode == 0     # warm up
    wait_no_connections(srv)
    time.sleep(0.5)
    fds_before, pss_before = open_fds(srv.pid), pss_kib(srv.pid)
    t0 = time.monotonic()
    for i in range(LOGINS):
        r = ssh(srv, "true", user=user)
        assert r.returncode == 0, f"login {i}: {r.stderr}"
    took = time.monotonic() - t0
    wait_no_connections(srv)                # no process left behind
    time.sleep(0.5)
    fds_after, pss_after = open_fds(srv.pid), pss_kib(srv.pid)
    print(f"{LOGINS} logins in {took:.1f} s; listener fds {len(fds_before)} -> "
          f"{len(fds_after)}, PSS {pss_before} -> {pss_after} KiB")
    assert fds_after == fds_before
    if not SANITIZED:        # ASan's quarantine grows PSS; LSan checks leaks there
        assert pss_after - pss_before < 1024


def private_dirty_kib(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        return int(re.search(r"^Private_Dirty:\s+(\d+) kB", f.read(), re.M).group(1))


class PeakDirty:
    """The highest Private_Dirty of pid, sampled every 5 ms in a thread
    while the with-block runs."""

    def __init__(self, pid):
        self.pid, self.peak = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, private_dirty_kib(self.pid))
            self._stop.wait(0.005)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def echo_through(ch, data):
    """Send data to the session's `cat` and read it all back."""
    got = bytearray()
    for at in range(0, len(data), 32768):
        ch.sendall(data[at:at + 32768])
        while ch.recv_ready() or len(got) < at // 2:
            got += ch.recv(65536)
    while len(got) < len(data):
        chunk = ch.recv(65536)
        assert chunk, "session ended during the echo"
        got += chunk
    return bytes(got)


@wombatd_only
def test_idle_session_gives_memory_back_and_works_after(srv, user, keys):
    """After half a second without traffic an authenticated connection frees
    its grown buffers and padding pool and returns the stack below its loop
    (conn.c trim_memory): its private dirty memory falls well below what it
    held while busy, and the same session then carries data again intact."""
    key = paramiko.Ed25519Key.from_private_key_file(keys.user["ed25519"])
    mark = srv.mark()
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    t = paramiko.Transport(sock)
    try:
        t.start_client(timeout=10)
        pid = connection_process(srv, sock, mark)
        t.auth_publickey(user, key)
        ch = t.open_session(timeout=10)
        ch.settimeout(30)
        ch.exec_command("cat")
        data = os.urandom(2 << 20)
        # busy: the peak while 2 MiB go through, then while a byte every
        # 100 ms keeps the connection from going idle (sampled, not read
        # once at the end: how far the buffers grow, and when, depends on
        # how the client's reads and writes fall)
        with PeakDirty(pid) as peak:
            assert echo_through(ch, data) == data
            for _ in range(5):
                assert echo_through(ch, b"x") == b"x"
                time.sleep(0.1)
        busy = peak.peak
        time.sleep(1.5)
        idle = private_dirty_kib(pid)
        print(f"connection process Private_Dirty: busy {busy} KiB, idle {idle} KiB")
        if not SANITIZED:    # ASan's allocator keeps freed memory in quarantine
            assert idle <= busy - 100, f"busy {busy} KiB, idle {idle} KiB"
        # the buffers and the padding pool come back on demand
        assert echo_through(ch, data) == data
        ch.shutdown_write()
        assert ch.recv_exit_status() == 0
    finally:
        t.close()
