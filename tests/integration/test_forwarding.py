"""Forwarding through wombatd with the real OpenSSH client (issue: the jump
host): -L, -W, -J, -D (direct-tcpip), -R (tcpip-forward, forwarded-tcpip),
Unix sockets both ways (streamlocal), half-close, 16 MiB each way, the
restrictions (allowed and refused, with the logged reason) and
ChannelTimeout for the new channel types and the session kinds.

The targets are small Python servers on 127.0.0.1 (echo, a checksum peer, a
Unix-socket echo) and a "black hole": a listening socket whose accept queue
is full, so that a connect to it is never answered.
"""
import hashlib
import os
import pwd
import re
import socket
import stat
import subprocess
import threading
import time

import paramiko
import pytest

from conftest import (IS_ROOT, SERVER_KIND, SSH, USER, install_key, ssh, ssh_argv,
                      throwaway_user)

pytestmark = pytest.mark.skipif(SERVER_KIND != "wombatd",
                                reason="wombat's log lines and options")

MIB = 1 << 20


# ------------------------------------------------------------------ targets

class EchoServer:
    """Echoes every connection (TCP on 127.0.0.1, or a Unix socket)."""

    def __init__(self, unix_path=None):
        if unix_path:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.bind(unix_path)
            self.port = None
        else:
            self.sock = socket.socket()
            self.sock.bind(("127.0.0.1", 0))
            self.port = self.sock.getsockname()[1]
        self.sock.listen(64)
        self.accepted = 0
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn):
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                conn.sendall(data)

    def close(self):
        self.sock.close()


class ChecksumPeer:
    """Per connection: sends `send` random bytes (then half-closes) while
    reading to EOF; records the sha256 of what it sent and received.
    far_first: send everything and half-close before reading anything."""

    def __init__(self, send=16 * MIB, far_first=False):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.send = send
        self.far_first = far_first
        self.results = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        sent = hashlib.sha256()
        got = hashlib.sha256()
        n_got = [0]

        def sender():
            left = self.send
            try:
                while left:
                    chunk = os.urandom(min(left, 256 * 1024))
                    sent.update(chunk)
                    conn.sendall(chunk)
                    left -= len(chunk)
                conn.shutdown(socket.SHUT_WR)
            except (BrokenPipeError, ConnectionResetError):
                # wait_port's probe closes at once; a real connection cut
                # short shows as a checksum that does not match
                pass

        def reader():
            while True:
                data = conn.recv(256 * 1024)
                if not data:
                    return
                got.update(data)
                n_got[0] += len(data)

        with conn:
            if self.far_first:
                sender()
                reader()
            else:
                t = threading.Thread(target=sender)
                t.start()
                reader()
                t.join()
        self.results.append((sent.hexdigest(), got.hexdigest(), n_got[0]))

    def close(self):
        self.sock.close()


def peer_result(peer, sent, timeout=30):
    """The peer's result for our connection: the one that received what we
    sent. wait_port's probe connection leaves a result too, and under load
    it may land after ours; without a match, the last one (the assertion
    on it then shows what arrived)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for r in list(peer.results):
            if r[1] == sent:
                return r
        time.sleep(0.1)
    return peer.results[-1] if peer.results else (None, None, 0)


def exchange(port, send, host="127.0.0.1", far_first=False, timeout=120):
    """Connect, send `send` random bytes then half-close, read to EOF.
    Returns (sha256 sent, sha256 received, bytes received)."""
    s = socket.create_connection((host, port), timeout=timeout)
    sent = hashlib.sha256()
    got = hashlib.sha256()
    n = [0]

    def reader():
        while True:
            data = s.recv(256 * 1024)
            if not data:
                return
            got.update(data)
            n[0] += len(data)

    def sender():
        left = send
        while left:
            chunk = os.urandom(min(left, 256 * 1024))
            sent.update(chunk)
            s.sendall(chunk)
            left -= len(chunk)
        s.shutdown(socket.SHUT_WR)

    with s:
        if far_first:
            reader()                  # the far side's EOF arrives first
            sender()
            s.settimeout(timeout)
            assert s.recv(1) == b""   # and the close follows ours
        else:
            t = threading.Thread(target=reader)
            t.start()
            sender()
            t.join(timeout)
            assert not t.is_alive(), "no EOF from the far side"
    return sent.hexdigest(), got.hexdigest(), n[0]


class BlackHole:
    """A listening socket with a full accept queue: SYNs to it are dropped,
    so a connect never completes."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.fillers = []
        for _ in range(3):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self.fillers.append(s)
        time.sleep(0.2)

    def close(self):
        for s in self.fillers:
            s.close()
        self.sock.close()


def echo_roundtrip(port, payload=b"hello through the tunnel\n", host="127.0.0.1"):
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(payload)
        got = b""
        while len(got) < len(payload):
            data = s.recv(65536)
            if not data:
                break
            got += data
        return got


def wait_port(port, host="127.0.0.1", timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def echo():
    e = EchoServer()
    yield e
    e.close()


@pytest.fixture(scope="module")
def fwd_server(start_server):
    srv = start_server(["ForwardConnectTimeout=3"])
    yield srv
    srv.stop()


# ------------------------------------------------------------- ssh helpers

def ssh_w(server, target, data=b"ping\n", opts=(), key=None, user=None, timeout=30):
    """ssh -W target with `data` on stdin: CompletedProcess."""
    argv = ssh_argv(server, key=key, user=user, verbose=True,
                    opts=["ExitOnForwardFailure=yes"] + list(opts))
    argv[1:1] = ["-W", target]
    return subprocess.run(argv, input=data, capture_output=True, timeout=timeout)


class Tunnel:
    """A background `ssh -N` with forwarding options; stderr kept."""

    def __init__(self, server, fwd_args, opts=(), key=None, user=None):
        # ssh takes an option's first value: the caller's come first
        argv = ssh_argv(server, key=key, user=user, verbose=True,
                        opts=list(opts) + ["ExitOnForwardFailure=yes"])
        argv[1:1] = ["-N"] + list(fwd_args)
        self.errpath = f"/tmp/fw-tunnel-{os.getpid()}-{time.monotonic_ns()}.err"
        self.err = open(self.errpath, "w+b")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.err)

    def stderr(self):
        self.err.flush()
        with open(self.errpath, "rb") as f:
            return f.read()

    def wait_stderr(self, pattern, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, self.stderr())
            if m:
                return m
            if self.proc.poll() is not None:
                return re.search(pattern, self.stderr())
            time.sleep(0.1)
        return None

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()
        os.unlink(self.errpath)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def remote_forward(server, target_port, listen="0", opts=(), key=None, user=None):
    """ssh -R LISTEN:127.0.0.1:target_port; returns (tunnel, allocated port
    or None when it failed)."""
    t = Tunnel(server, ["-R", f"{listen}:127.0.0.1:{target_port}"], opts=opts, key=key,
               user=user, )
    if listen.endswith(":0") or listen == "0":
        m = t.wait_stderr(rb"Allocated port (\d+) for remote forward")
        return t, (int(m.group(1)) if m else None)
    # a fixed port: it listens once ssh has not failed
    port = int(listen.rsplit(":", 1)[-1])
    return t, (port if wait_port(port, timeout=10) else None)


def key_line(keys, options=""):
    with open(keys.user["ed25519"] + ".pub") as f:
        pub = f.read().strip()
    return f"{options} {pub}\n" if options else pub + "\n"


def authorized_file(tmp_path, keys, options):
    path = tmp_path / "authorized_keys_fwd"
    path.write_text(key_line(keys, options))
    os.chmod(path, 0o600)
    return str(path)


# ================================================================ direct-tcpip

def test_dash_W_numeric_and_named_target(fwd_server, echo):
    r = ssh_w(fwd_server, f"127.0.0.1:{echo.port}")
    assert r.returncode == 0 and r.stdout == b"ping\n", r.stderr
    # a name: looked up by the resolver child
    r = ssh_w(fwd_server, f"localhost:{echo.port}", data=b"by name\n")
    assert r.stdout == b"by name\n", (r.stderr, fwd_server.log()[-2000:])


def test_dash_L_many_connections(fwd_server, echo):
    lport = free_port()
    with Tunnel(fwd_server, ["-L", f"{lport}:127.0.0.1:{echo.port}"]) as t:
        assert wait_port(lport), t.stderr()
        for i in range(20):
            payload = f"connection {i}\n".encode() * 100
            assert echo_roundtrip(lport, payload) == payload


def test_connect_refused_gives_connect_failed(fwd_server):
    dead = free_port()                 # nothing listens there
    mark = fwd_server.mark()
    r = ssh_w(fwd_server, f"127.0.0.1:{dead}")
    assert r.returncode == 255, r
    assert b"open failed: connect failed" in r.stderr, r.stderr
    assert fwd_server.wait_log(rf"direct-tcpip to 127\.0\.0\.1 port {dead} for {USER} failed: "
                               r"connect failed: Connection refused", mark)


def test_unknown_name_gives_connect_failed(fwd_server):
    mark = fwd_server.mark()
    r = ssh_w(fwd_server, "no-such-host.invalid:80")
    assert r.returncode == 255 and b"open failed: connect failed" in r.stderr, r.stderr
    assert fwd_server.wait_log(r"direct-tcpip to no-such-host\.invalid port 80 for \S+ failed: "
                               r"name lookup failed", mark)


def test_black_hole_stalls_only_its_own_channel(start_server, echo, keys):
    """A connect that is never answered: the same connection's session and
    other forwards go on meanwhile; the open fails with CONNECT_FAILED
    once ForwardConnectTimeout (10 s here) has passed."""
    hole = BlackHole()
    fwd_server = start_server(["ForwardConnectTimeout=10"])
    t = paramiko.Transport(("127.0.0.1", fwd_server.port))
    try:
        t.start_client(timeout=10)
        t.auth_publickey(USER, paramiko.Ed25519Key.from_private_key_file(keys.user["ed25519"]))
        outcome = {}

        def open_hole():
            t0 = time.monotonic()
            try:
                t.open_channel("direct-tcpip", ("127.0.0.1", hole.port), ("127.0.0.1", 1),
                               timeout=30)
                outcome["result"] = "opened"
            except paramiko.ChannelException as e:
                outcome["result"] = e.code
            outcome["took"] = time.monotonic() - t0

        mark = fwd_server.mark()
        th = threading.Thread(target=open_hole)
        th.start()
        time.sleep(0.5)
        assert th.is_alive(), "the open to the black hole was answered at once"
        # meanwhile: a command and a forward on the same connection
        chan = t.open_session(timeout=10)
        chan.exec_command("echo alive")
        assert chan.makefile().read() == b"alive\n"
        fw = t.open_channel("direct-tcpip", ("127.0.0.1", echo.port), ("127.0.0.1", 2),
                            timeout=10)
        fw.sendall(b"meanwhile\n")
        assert fw.recv(100) == b"meanwhile\n"
        fw.close()
        assert th.is_alive(), "the black-hole open did not stay pending"
        th.join(30)
        assert outcome.get("result") == 2, outcome      # SSH_OPEN_CONNECT_FAILED
        assert 9.0 < outcome["took"] < 25, outcome
        assert fwd_server.wait_log(rf"direct-tcpip to 127\.0\.0\.1 port {hole.port} for \S+ "
                                   r"failed: connect timed out after 10 s", mark)
        # and the connection is still fine afterwards
        chan = t.open_session(timeout=10)
        chan.exec_command("echo still")
        assert chan.makefile().read() == b"still\n"
    finally:
        t.close()
        hole.close()
        fwd_server.stop()


def test_dash_D_socks(fwd_server, echo):
    lport = free_port()
    with Tunnel(fwd_server, ["-D", f"127.0.0.1:{lport}"]) as t:
        assert wait_port(lport), t.stderr()
        with socket.create_connection(("127.0.0.1", lport), timeout=10) as s:
            s.sendall(b"\x05\x01\x00")
            assert s.recv(2) == b"\x05\x00"
            s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton("127.0.0.1") +
                      echo.port.to_bytes(2, "big"))
            reply = s.recv(10)
            assert reply[:2] == b"\x05\x00", reply
            s.sendall(b"via socks\n")
            assert s.recv(100) == b"via socks\n"


def jump_config(tmp_path, keys, servers):
    """An ssh_config naming each server hop0, hop1, ..."""
    lines = []
    for i, srv in enumerate(servers):
        lines += [f"Host hop{i}", "  HostName 127.0.0.1", f"  Port {srv.port}",
                  f"  User {USER}"]
    lines += ["Host *", f"  IdentityFile {keys.user['ed25519']}", "  IdentitiesOnly yes",
              "  StrictHostKeyChecking no", "  UserKnownHostsFile /dev/null",
              "  BatchMode yes", "  LogLevel ERROR", "  ConnectTimeout 10"]
    path = tmp_path / "ssh_config"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_dash_J_through_one_and_two(start_server, fwd_server, tmp_path, keys):
    second = start_server()
    third = start_server()
    try:
        cfg = jump_config(tmp_path, keys, [fwd_server, second, third])
        r = subprocess.run([SSH, "-F", cfg, "-J", "hop0", "hop1", "echo", "via one"],
                           capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        assert r.returncode == 0 and r.stdout == b"via one\n", r.stderr
        r = subprocess.run([SSH, "-F", cfg, "-J", "hop0,hop1", "hop2", "echo", "via two"],
                           capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        assert r.returncode == 0 and r.stdout == b"via two\n", r.stderr
        # -W as ProxyCommand
        argv = ssh_argv(fwd_server)
        argv[1:1] = ["-W", "%h:%p"]
        r = subprocess.run(ssh_argv(second, "echo", "proxied",
                                    opts=["ProxyCommand=" + " ".join(argv)]),
                           capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        assert r.returncode == 0 and r.stdout == b"proxied\n", r.stderr
    finally:
        second.stop()
        third.stop()


# ============================================================== tcpip-forward

def test_dash_R_port_zero_and_fixed(fwd_server, echo):
    t, port = remote_forward(fwd_server, echo.port)
    with t:
        assert port, t.stderr()
        assert echo_roundtrip(port) == b"hello through the tunnel\n"
        for i in range(5):
            assert echo_roundtrip(port, b"again %d\n" % i) == b"again %d\n" % i
    fixed = free_port()
    t, port = remote_forward(fwd_server, echo.port, listen=str(fixed))
    with t:
        assert port == fixed, t.stderr()
        assert echo_roundtrip(fixed) == b"hello through the tunnel\n"


def test_listener_closed_when_connection_ends(fwd_server, echo):
    mark = fwd_server.mark()
    t, port = remote_forward(fwd_server, echo.port)
    assert port, t.stderr()
    t.close()
    assert fwd_server.wait_log(rf"remote forward on \S+ port {port} for \S+ closed", mark)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            time.sleep(0.2)
        except OSError:
            break
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2)


def ctl_argv(srv, ctl, *args, opts=()):
    """ssh with ControlPath ctl and extra arguments before the destination."""
    argv = ssh_argv(srv, opts=[f"ControlPath={ctl}"] + list(opts))
    argv[1:1] = list(args)
    return argv


def test_cancel_remote_forward(start_server, echo):
    """cancel-tcpip-forward through the control socket (ssh -O cancel)."""
    srv = start_server()
    ctl = f"/tmp/fw-ctl-{os.getpid()}"
    master = subprocess.Popen(ctl_argv(srv, ctl, "-N", opts=["ControlMaster=yes"]),
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while not os.path.exists(ctl) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert os.path.exists(ctl)
        port = free_port()
        spec = f"{port}:127.0.0.1:{echo.port}"
        r = subprocess.run(ctl_argv(srv, ctl, "-O", "forward", "-R", spec),
                           capture_output=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert wait_port(port) and echo_roundtrip(port) == b"hello through the tunnel\n"
        mark = srv.mark()
        r = subprocess.run(ctl_argv(srv, ctl, "-O", "cancel", "-R", spec),
                           capture_output=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert srv.wait_log(rf"remote forward on \S+ port {port} for \S+ closed", mark)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2)
    finally:
        subprocess.run(ctl_argv(srv, ctl, "-O", "exit"), capture_output=True, timeout=30)
        try:
            master.wait(timeout=10)
        except subprocess.TimeoutExpired:
            master.kill()
        srv.stop()


def test_gateway_ports(start_server, echo):
    """no: loopback only (127.0.0.2 is not reached); yes: the wildcard;
    clientspecified: the address the client names."""
    for value, listen, reach_1, reach_2 in (("no", "127.0.0.2:0", True, False),
                                             ("yes", "0", True, True),
                                             ("clientspecified", "127.0.0.2:0", False, True)):
        srv = start_server([f"GatewayPorts={value}"])
        try:
            t, port = remote_forward(srv, echo.port, listen=listen)
            with t:
                assert port, (value, t.stderr(), srv.log()[-2000:])
                for host, want in (("127.0.0.1", reach_1), ("127.0.0.2", reach_2)):
                    try:
                        got = echo_roundtrip(port, host=host) == b"hello through the tunnel\n"
                    except OSError:
                        got = False
                    assert got == want, (value, host, srv.log()[-2000:])
        finally:
            srv.stop()


# ================================================================= streamlocal

def test_streamlocal_both_ways_as_the_user(start_server, keys, tmp_path):
    """-L to a Unix socket and -R onto one: the socket file is made as the
    user, with StreamLocalBindMask; StreamLocalBindUnlink replaces a stale
    one."""
    name = "fwsock"
    with throwaway_user(name, "sockets made as the user") as user:
        pw = pwd.getpwnam(user)
        install_key(user, keys.user["ed25519"] + ".pub")
        srv = start_server(["StreamLocalBindMask=0117", "AuthorizedKeysFile=.ssh/authorized_keys"])
        try:
            # -L: a Unix echo server the user can reach
            target = os.path.join(pw.pw_dir, "target.sock")
            unix_echo = EchoServer(unix_path=target)
            os.chmod(target, 0o666)
            lport = free_port()
            with Tunnel(srv, ["-L", f"{lport}:{target}"], user=user) as t:
                assert wait_port(lport), (t.stderr(), srv.log()[-2000:])
                assert echo_roundtrip(lport) == b"hello through the tunnel\n"
            unix_echo.close()
            # -R onto a socket path in the user's home
            echo = EchoServer()
            path = os.path.join(pw.pw_dir, "remote.sock")
            with Tunnel(srv, ["-R", f"{path}:127.0.0.1:{echo.port}"], user=user) as t:
                deadline = time.monotonic() + 15
                while not os.path.exists(path) and time.monotonic() < deadline:
                    time.sleep(0.1)
                st = os.lstat(path)
                assert stat.S_ISSOCK(st.st_mode)
                assert st.st_uid == pw.pw_uid, "socket not created as the user"
                assert stat.S_IMODE(st.st_mode) == 0o660, oct(st.st_mode)
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(path)
                    s.sendall(b"unix remote\n")
                    assert s.recv(100) == b"unix remote\n"
            # gone with the connection
            deadline = time.monotonic() + 10
            while os.path.exists(path) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not os.path.exists(path)
            # a stale socket file: refused without StreamLocalBindUnlink...
            stale = socket.socket(socket.AF_UNIX)
            stale.bind(path)
            stale.close()
            os.chown(path, pw.pw_uid, pw.pw_gid)
            with Tunnel(srv, ["-R", f"{path}:127.0.0.1:{echo.port}"], user=user) as t:
                t.proc.wait(timeout=20)
                assert b"remote port forwarding failed" in t.stderr()
            srv.stop()
            # ...replaced with it
            srv = start_server(["StreamLocalBindUnlink=yes",
                                "AuthorizedKeysFile=.ssh/authorized_keys"])
            with Tunnel(srv, ["-R", f"{path}:127.0.0.1:{echo.port}"], user=user) as t:
                deadline = time.monotonic() + 15
                ok = False
                while time.monotonic() < deadline and not ok:
                    try:
                        with socket.socket(socket.AF_UNIX) as s:
                            s.connect(path)
                            s.sendall(b"replaced\n")
                            ok = s.recv(100) == b"replaced\n"
                    except OSError:
                        time.sleep(0.2)
                assert ok, (t.stderr(), srv.log()[-2000:])
            echo.close()
        finally:
            srv.stop()


def test_streamlocal_path_must_be_absolute(fwd_server):
    """A relative socket path would be taken from the daemon's directory:
    refused both ways."""
    mark = fwd_server.mark()
    lport = free_port()
    with Tunnel(fwd_server, ["-L", f"{lport}:./relative.sock"]) as t:
        assert wait_port(lport), t.stderr()
        with socket.create_connection(("127.0.0.1", lport), timeout=10) as s:
            s.settimeout(10)
            assert s.recv(10) == b""
    assert fwd_server.wait_log(r"direct-streamlocal for \S+ refused: bad socket path "
                               r"\(must be absolute\)", mark)
    with Tunnel(fwd_server, ["-R", "./relative.sock:127.0.0.1:9"]) as t:
        t.proc.wait(timeout=20)
        assert b"remote port forwarding failed" in t.stderr()
    assert fwd_server.wait_log(r"streamlocal-forward on \./relative\.sock refused for \S+: "
                               r"bad socket path \(must be absolute\)", mark)


# ======================================================= half-close, 16 MiB

def test_16mib_each_way_dash_L(fwd_server):
    peer = ChecksumPeer(send=16 * MIB)
    lport = free_port()
    try:
        with Tunnel(fwd_server, ["-L", f"{lport}:127.0.0.1:{peer.port}"]) as t:
            assert wait_port(lport), t.stderr()
            time.sleep(0.2)
            peer.results.clear()
            sent, got, n = exchange(lport, 16 * MIB)
            p_sent, p_got, p_n = peer_result(peer, sent)
            assert n == 16 * MIB and got == p_sent, "far side -> client corrupted"
            assert p_n == 16 * MIB and p_got == sent, "client -> far side corrupted"
    finally:
        peer.close()


def test_16mib_each_way_dash_R(fwd_server):
    peer = ChecksumPeer(send=16 * MIB)
    try:
        t, port = remote_forward(fwd_server, peer.port)
        with t:
            assert port, t.stderr()
            sent, got, n = exchange(port, 16 * MIB)
            p_sent, p_got, p_n = peer_result(peer, sent)
            assert n == 16 * MIB and got == p_sent
            assert p_n == 16 * MIB and p_got == sent
    finally:
        peer.close()


@pytest.mark.parametrize("direction", ["L", "R"])
def test_far_side_half_closes_first(fwd_server, direction):
    """The far side sends and half-closes before reading: its EOF reaches
    the client while the client can still send, and nothing is lost."""
    peer = ChecksumPeer(send=1 * MIB, far_first=True)
    try:
        if direction == "L":
            lport = free_port()
            t = Tunnel(fwd_server, ["-L", f"{lport}:127.0.0.1:{peer.port}"])
            assert wait_port(lport), t.stderr()
            time.sleep(0.2)
        else:
            t, lport = remote_forward(fwd_server, peer.port)
            assert lport, t.stderr()
        with t:
            peer.results.clear()
            sent, got, n = exchange(lport, 2 * MIB, far_first=True)
            p_sent, p_got, p_n = peer_result(peer, sent)
            assert n == 1 * MIB and got == p_sent
            assert p_n == 2 * MIB and p_got == sent
    finally:
        peer.close()


def test_client_half_close_reaches_target(fwd_server):
    """ssh -W: stdin's EOF becomes the target's EOF (shutdown), and the
    target's answer after it still comes back."""
    srv_sock = socket.socket()
    srv_sock.bind(("127.0.0.1", 0))
    srv_sock.listen(1)

    def serve():
        conn, _ = srv_sock.accept()
        with conn:
            data = b""
            while True:
                d = conn.recv(65536)
                if not d:
                    break
                data += d
            conn.sendall(b"got %d bytes after EOF\n" % len(data))

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    try:
        r = ssh_w(fwd_server, f"127.0.0.1:{srv_sock.getsockname()[1]}", data=b"x" * 100000)
        assert r.stdout == b"got 100000 bytes after EOF\n", r.stderr
    finally:
        srv_sock.close()


# ================================================================ restrictions

def refused_W(server, target, **kw):
    r = ssh_w(server, target, **kw)
    return r.returncode == 255 and b"administratively prohibited" in r.stderr


def works_W(server, target, **kw):
    r = ssh_w(server, target, **kw)
    return r.returncode == 0 and r.stdout == b"ping\n"


def remote_ok(server, target_port, listen="0", **kw):
    t, port = remote_forward(server, target_port, listen=listen, **kw)
    with t:
        return bool(port) and echo_roundtrip(port) == b"hello through the tunnel\n"


@pytest.mark.parametrize("value,local,remote", [
    ("yes", True, True), ("all", True, True), ("no", False, False),
    ("local", True, False), ("remote", False, True)])
def test_allow_tcp_forwarding(start_server, echo, value, local, remote):
    srv = start_server([f"AllowTcpForwarding={value}"])
    try:
        mark = srv.mark()
        target = f"127.0.0.1:{echo.port}"
        if local:
            assert works_W(srv, target), srv.log()[-2000:]
        else:
            assert refused_W(srv, target)
            assert srv.wait_log(rf"direct-tcpip to 127\.0\.0\.1 port {echo.port} \(from .*\) "
                                rf"refused for {USER}: AllowTcpForwarding {value}", mark)
        assert remote_ok(srv, echo.port) == remote
        if not remote:
            assert srv.wait_log(rf"tcpip-forward on localhost port 0 refused for {USER}: "
                                rf"AllowTcpForwarding {value}", mark)
    finally:
        srv.stop()


def test_disable_forwarding(start_server, echo, tmp_path):
    srv = start_server(["DisableForwarding=yes"])
    try:
        mark = srv.mark()
        assert refused_W(srv, f"127.0.0.1:{echo.port}")
        assert not remote_ok(srv, echo.port)
        assert srv.wait_log(r"direct-tcpip .* refused for \S+: DisableForwarding yes", mark)
        assert srv.wait_log(r"tcpip-forward .* refused for \S+: DisableForwarding yes", mark)
        lport = free_port()
        sock = str(tmp_path / "nope.sock")
        with Tunnel(srv, ["-L", f"{lport}:{sock}"], opts=["ExitOnForwardFailure=no"]) as t:
            assert wait_port(lport)
            with socket.create_connection(("127.0.0.1", lport), timeout=10) as s:
                s.settimeout(10)
                assert s.recv(10) == b""
            assert srv.wait_log(rf"direct-streamlocal to {re.escape(sock)} refused for \S+: "
                                r"DisableForwarding yes", mark)
        # the session itself works
        r = ssh(srv, "echo", "in")
        assert r.stdout == b"in\n"
    finally:
        srv.stop()


def unix_remote_ok(server, path, target_port):
    """ssh -R PATH:127.0.0.1:target_port: does PATH answer?"""
    with Tunnel(server, ["-R", f"{path}:127.0.0.1:{target_port}"]) as t:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and t.proc.poll() is None:
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.settimeout(10)
                    s.connect(path)
                    s.sendall(b"unix\n")
                    return s.recv(10) == b"unix\n"
            except OSError:
                time.sleep(0.2)
        return False


@pytest.mark.parametrize("value,local,remote", [
    ("yes", True, True), ("no", False, False), ("local", True, False),
    ("remote", False, True)])
def test_allow_streamlocal_forwarding(start_server, tmp_path, echo, value, local, remote):
    target = str(tmp_path / "t.sock")
    unix_echo = EchoServer(unix_path=target)
    srv = start_server([f"AllowStreamLocalForwarding={value}"])
    try:
        mark = srv.mark()
        lport = free_port()
        with Tunnel(srv, ["-L", f"{lport}:{target}"]) as t:
            assert wait_port(lport), t.stderr()
            try:
                got = echo_roundtrip(lport) == b"hello through the tunnel\n"
            except OSError:
                got = False
            assert got == local, (value, srv.log()[-1500:])
        if not local:
            assert srv.wait_log(rf"direct-streamlocal to \S+ refused for {USER}: "
                                rf"AllowStreamLocalForwarding {value}", mark)
        path = str(tmp_path / "r.sock")
        assert unix_remote_ok(srv, path, echo.port) == remote, srv.log()[-1500:]
        if not remote:
            assert srv.wait_log(rf"streamlocal-forward on \S+ refused for {USER}: "
                                rf"AllowStreamLocalForwarding {value}", mark)
        # TCP forwarding is another option
        assert works_W(srv, f"127.0.0.1:{echo.port}")
    finally:
        srv.stop()
        unix_echo.close()


def test_listener_bound_per_connection(fwd_server, echo):
    """More than 32 remote forwards on one connection: the rest are
    refused and logged, the first 32 work."""
    mark = fwd_server.mark()
    args = []
    for i in range(34):               # ssh drops duplicate specs: vary the target
        args += ["-R", f"0:127.0.0.1:{echo.port if i == 0 else 20000 + i}"]
    with Tunnel(fwd_server, args, opts=["ExitOnForwardFailure=no"]) as t:
        assert fwd_server.wait_log(r"tcpip-forward on localhost port 0 refused for \S+: "
                                   r"too many remote forwards on this connection", mark,
                                   timeout=20)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            ports = re.findall(rb"Allocated port (\d+) for remote forward", t.stderr())
            if len(ports) >= 32:
                break
            time.sleep(0.2)
        assert len(ports) == 32, t.stderr()[-2000:]
        m = re.search(rb"Allocated port (\d+) for remote forward to 127\.0\.0\.1:%d\b"
                      % echo.port, t.stderr())
        assert m and echo_roundtrip(int(m.group(1))) == b"hello through the tunnel\n"


def test_permit_open(start_server, echo):
    other = EchoServer()
    try:
        srv = start_server([f"PermitOpen=127.0.0.1:{echo.port}"])
        try:
            mark = srv.mark()
            assert works_W(srv, f"127.0.0.1:{echo.port}")
            assert refused_W(srv, f"127.0.0.1:{other.port}")
            assert srv.wait_log(rf"port {other.port} .*refused for \S+: PermitOpen \(no entry "
                                r"matches\)", mark)
            # written names are compared as written: no lookup
            assert refused_W(srv, f"localhost:{echo.port}")
        finally:
            srv.stop()
        srv = start_server(["PermitOpen=none"])
        try:
            mark = srv.mark()
            assert refused_W(srv, f"127.0.0.1:{echo.port}")
            assert srv.wait_log(r"refused for \S+: PermitOpen none", mark)
        finally:
            srv.stop()
        srv = start_server(["PermitOpen=127.0.0.1:*"])
        try:
            assert works_W(srv, f"127.0.0.1:{echo.port}")
            assert works_W(srv, f"127.0.0.1:{other.port}")
        finally:
            srv.stop()
    finally:
        other.close()


def test_permit_listen(start_server, echo):
    srv = start_server(["PermitListen=localhost:*"])
    try:
        mark = srv.mark()
        assert remote_ok(srv, echo.port)                       # ssh asks for "localhost"
        assert not remote_ok(srv, echo.port, listen="127.0.0.1:0")
        assert srv.wait_log(r"tcpip-forward on 127\.0\.0\.1 port 0 refused for \S+: "
                            r"PermitListen \(no entry matches\)", mark)
    finally:
        srv.stop()
    fixed = free_port()
    srv = start_server([f"PermitListen={fixed}"])
    try:
        assert remote_ok(srv, echo.port, listen=str(fixed))
        assert not remote_ok(srv, echo.port)                   # port 0 is not that port
    finally:
        srv.stop()
    srv = start_server(["PermitListen=none"])
    try:
        mark = srv.mark()
        assert not remote_ok(srv, echo.port)
        assert srv.wait_log(r"refused for \S+: PermitListen none", mark)
    finally:
        srv.stop()


@pytest.mark.parametrize("options,local,remote,rule", [
    ("no-port-forwarding", False, False, "the key's no-port-forwarding option"),
    ("restrict", False, False, "the key's restrict option"),
    ("restrict,port-forwarding", True, True, None),
    ("no-port-forwarding,port-forwarding", True, True, None),
])
def test_key_forwarding_options(start_server, echo, keys, tmp_path, options, local, remote,
                                rule):
    srv = start_server(authorized_keys=authorized_file(tmp_path, keys, options))
    try:
        mark = srv.mark()
        target = f"127.0.0.1:{echo.port}"
        assert (works_W(srv, target) if local else refused_W(srv, target)), srv.log()[-2000:]
        assert remote_ok(srv, echo.port) == remote
        if rule:
            assert srv.wait_log(rf"direct-tcpip .* refused for \S+: {re.escape(rule)}", mark)
            assert srv.wait_log(rf"tcpip-forward .* refused for \S+: {re.escape(rule)}", mark)
    finally:
        srv.stop()


def test_key_permitopen_and_permitlisten(start_server, echo, keys, tmp_path):
    other = EchoServer()
    fixed = free_port()
    srv = start_server(authorized_keys=authorized_file(
        tmp_path, keys, f'permitopen="127.0.0.1:{echo.port}",permitlisten="localhost:{fixed}"'))
    try:
        mark = srv.mark()
        assert works_W(srv, f"127.0.0.1:{echo.port}")
        assert refused_W(srv, f"127.0.0.1:{other.port}")
        assert srv.wait_log(r"refused for \S+: the key's permitopen \(no entry matches\)", mark)
        assert remote_ok(srv, echo.port, listen=str(fixed))
        assert not remote_ok(srv, echo.port)
        assert srv.wait_log(r"refused for \S+: the key's permitlisten \(no entry matches\)",
                            mark)
    finally:
        srv.stop()
        other.close()


def test_match_restricts_forwarding(start_server, echo):
    srv = start_server(config="Match Address 127.0.0.1\n    AllowTcpForwarding no\n")
    try:
        assert refused_W(srv, f"127.0.0.1:{echo.port}")
    finally:
        srv.stop()
    srv = start_server(config="Match Address 10.0.0.0/8\n    AllowTcpForwarding no\n")
    try:
        assert works_W(srv, f"127.0.0.1:{echo.port}")
    finally:
        srv.stop()


def test_privileged_port_needs_root(start_server, keys, echo):
    with throwaway_user("fwlow", "a non-root user") as user:
        install_key(user, keys.user["ed25519"] + ".pub")
        srv = start_server(["AuthorizedKeysFile=.ssh/authorized_keys"])
        try:
            mark = srv.mark()
            t, port = remote_forward(srv, echo.port, listen="127.0.0.1:1023", user=user)
            t.close()
            assert not port
            assert srv.wait_log(r"tcpip-forward on 127\.0\.0\.1 port 1023 refused for fwlow: "
                                r"privileged port", mark)
        finally:
            srv.stop()


def test_dump_shows_forwarding_options():
    from conftest import WOMBATD
    r = subprocess.run([WOMBATD, "-T", "-f", "/dev/null", "-o", "AllowTcpForwarding=local",
                        "-o", "DisableForwarding=yes", "-o", "StreamLocalBindMask=0077",
                        "-o", "StreamLocalBindUnlink=yes", "-o", "AllowStreamLocalForwarding=no",
                        "-o", "PermitListen=localhost:*", "-o", "ForwardConnectTimeout=7"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    for line in ("allowtcpforwarding local", "disableforwarding yes",
                 "streamlocalbindmask 0077", "streamlocalbindunlink yes",
                 "allowstreamlocalforwarding no", "permitlisten localhost:*",
                 "forwardconnecttimeout 7"):
        assert line in r.stdout.splitlines(), (line, r.stdout)


# ============================================================== ChannelTimeout

def test_channel_timeout_direct_tcpip(start_server, echo):
    srv = start_server(["ChannelTimeout=direct-tcpip=2"])
    try:
        mark = srv.mark()
        argv = ssh_argv(srv, opts=["ExitOnForwardFailure=yes"])
        argv[1:1] = ["-W", f"127.0.0.1:{echo.port}"]
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            assert srv.wait_log(r"direct-tcpip channel (\d+): no traffic for 2 s "
                                r"\(ChannelTimeout direct-tcpip=2\)", mark, timeout=15)
        finally:
            p.kill()
            p.communicate(timeout=10)
    finally:
        srv.stop()


def test_channel_timeout_forwarded_tcpip(start_server, echo):
    srv = start_server(["ChannelTimeout=forwarded-tcpip=2"])
    try:
        mark = srv.mark()
        t, port = remote_forward(srv, echo.port)
        with t:
            s = socket.create_connection(("127.0.0.1", port), timeout=15)
            with s:
                s.settimeout(15)
                t0 = time.monotonic()
                assert s.recv(10) == b""           # closed for idleness
                assert time.monotonic() - t0 < 12
            assert srv.wait_log(r"forwarded-tcpip channel \d+ .*: no traffic|forwarded-tcpip "
                                r"channel \d+: no traffic for 2 s", mark)
    finally:
        srv.stop()


def timed(argv, timeout=40, **kw):
    t0 = time.monotonic()
    r = subprocess.run(argv, capture_output=True, timeout=timeout, **kw)
    return r, time.monotonic() - t0


def test_channel_timeout_session_kinds(start_server):
    """session:command closes an idle command but not a shell;
    session:shell the other way round."""
    srv = start_server(["ChannelTimeout=session:command=2"])
    try:
        mark = srv.mark()
        r, took = timed(ssh_argv(srv, "sleep 30"), stdin=subprocess.DEVNULL)
        assert took < 15, took
        assert srv.wait_log(r"session channel \d+: no traffic for 2 s "
                            r"\(ChannelTimeout session:command=2\)", mark)
        # a shell is not a command: 4 s of silence pass
        r, took = timed(ssh_argv(srv), input=b"sleep 4; echo shell-done\n")
        assert r.stdout == b"shell-done\n", (r, took)
    finally:
        srv.stop()
    srv = start_server(["ChannelTimeout=session:shell=2"])
    try:
        mark = srv.mark()
        p = subprocess.Popen(ssh_argv(srv), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            assert srv.wait_log(r"session channel \d+: no traffic for 2 s "
                                r"\(ChannelTimeout session:shell=2\)", mark, timeout=15)
        finally:
            p.kill()
            p.communicate(timeout=10)
        r, took = timed(ssh_argv(srv, "sleep 4; echo cmd-done"), stdin=subprocess.DEVNULL)
        assert r.stdout == b"cmd-done\n"
    finally:
        srv.stop()


def test_channel_timeout_subsystem(start_server, keys):
    srv = start_server(["ChannelTimeout=session:subsystem:sftp=2"])
    try:
        mark = srv.mark()
        t = paramiko.Transport(("127.0.0.1", srv.port))
        try:
            t.start_client(timeout=10)
            t.auth_publickey(USER, paramiko.Ed25519Key.from_private_key_file(
                keys.user["ed25519"]))
            ch = t.open_session()
            ch.invoke_subsystem("sftp")
            assert srv.wait_log(r"session channel \d+: no traffic for 2 s "
                                r"\(ChannelTimeout session:subsystem:sftp=2\)", mark,
                                timeout=15)
        finally:
            t.close()
    finally:
        srv.stop()


# ================================================================ multiplexing

def start_master(srv, ctl, opts=()):
    master = subprocess.Popen(ctl_argv(srv, ctl, "-N", opts=["ControlMaster=yes"] + list(opts)),
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while not os.path.exists(ctl) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert os.path.exists(ctl), "no control socket"
    return master


def test_ten_sessions_over_one_master(start_server):
    """10 concurrent sessions through one ControlMaster, each with its own
    output; a client killed mid-way leaves the others alone; -O check,
    -O stop and -O exit."""
    srv = start_server()
    ctl = f"/tmp/fw-mux-{os.getpid()}"
    master = start_master(srv, ctl)
    try:
        assert subprocess.run(ctl_argv(srv, ctl, "-O", "check"), capture_output=True,
                              timeout=30).returncode == 0
        procs = [subprocess.Popen(ctl_argv(srv, ctl) + [f"echo start-{i}; sleep 2; echo end-{i}"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE) for i in range(10)]
        time.sleep(1)
        procs[3].kill()
        for i, p in enumerate(procs):
            # a bound, not a speed: 10 logins' shells at once under load
            out, err = p.communicate(timeout=180)
            if i == 3:
                continue
            assert p.returncode == 0 and out == f"start-{i}\nend-{i}\n".encode(), (i, out, err)
        r = subprocess.run(ctl_argv(srv, ctl, "-O", "stop"), capture_output=True, timeout=30)
        assert r.returncode == 0, r.stderr
    finally:
        subprocess.run(ctl_argv(srv, ctl, "-O", "exit"), capture_output=True, timeout=30)
        try:
            master.wait(timeout=15)
        except subprocess.TimeoutExpired:
            master.kill()
        srv.stop()


def test_max_sessions_over_a_master(start_server):
    """MaxSessions 3: the fourth concurrent session through one master is
    refused with a clear failure."""
    srv = start_server(["MaxSessions=3"])
    ctl = f"/tmp/fw-mux3-{os.getpid()}"
    master = start_master(srv, ctl)
    try:
        procs = [subprocess.Popen(ctl_argv(srv, ctl) + ["sleep 4; echo ok"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE) for _ in range(3)]
        time.sleep(1.5)
        r = subprocess.run(ctl_argv(srv, ctl) + ["echo fourth"], capture_output=True,
                           timeout=30, stdin=subprocess.DEVNULL)
        # refused on the master's connection (ssh then makes a connection
        # of its own for it)
        assert b"Session open refused by peer" in r.stderr, r
        for p in procs:
            out, _ = p.communicate(timeout=60)
            assert out == b"ok\n"
        assert srv.wait_log(r"session open refused: MaxSessions 3 reached")
    finally:
        subprocess.run(ctl_argv(srv, ctl, "-O", "exit"), capture_output=True, timeout=30)
        try:
            master.wait(timeout=15)
        except subprocess.TimeoutExpired:
            master.kill()
        srv.stop()
