"""Hostile clients against a live wombatd while a well-behaved OpenSSH client
logs in and runs a command every second in a background thread.

Every test here fails if that client is ever refused or takes longer than
GOOD_BOUND seconds, if an attack connection is not closed with a reason in
the log, if the daemon dies, or if the listener's VmRSS grows by more than
RSS_SLACK_KIB. The good client is a throw-away user with /bin/sh (root's
.bashrc here runs pyenv and makes every root session slow); without root it
is the test user.

Counts are modest where this machine (2 shared cores) cannot take more; each
test's docstring says which.
"""
import os
import resource
import socket
import struct
import subprocess
import threading
import time
import zlib

import paramiko
import pytest

from conftest import IS_ROOT, SANITIZED, SERVER_KIND, USER, ssh, ssh_argv, throwaway_user
from test_access import plain_kexinit, plain_packet
from test_badinput import closed_by_server, handshake_to_kexinit, kexinit_payload

pytestmark = pytest.mark.skipif(SERVER_KIND != "wombatd",
                                reason="checks wombatd's own log lines and limits")

GOOD_BOUND = 20.0          # s: longest a good login may take
# The sanitizer build (make check-asan) forks and runs each connection
# process several times slower: with 100 of them alive a good login there
# took over 5 s (the attacks' LoginGraceTime) and ssh's banner wait over
# 10 s on a loaded machine. The same attacks, with wider time bounds.
GRACE = 15 if SANITIZED else 5      # LoginGraceTime of the slowloris tests
GOOD_CONNECT_TIMEOUT = int(GOOD_BOUND) if SANITIZED else 10
RSS_SLACK_KIB = 5 * 1024   # listener VmRSS growth allowed over a test
# test_thousand_half_open's bounds are multiplied by this under the
# sanitizers. There each connection costs several times the CPU of the
# release build (README, Security: ASan's start-up in the exec'd monitor,
# LeakSanitizer's check at the exit of the monitor and of the pre-auth
# child), so the 1,000 processes take two cores minutes, not seconds, and
# the good client's processes, scheduled among them, wait as long.
HALF_OPEN_SCALE = 8 if SANITIZED else 1
ENDED = r"Connection from 127\.0\.0\.1 port \d+ ended: "


# ------------------------------------------------------------ the good client

@pytest.fixture(scope="module")
def good_user():
    if not IS_ROOT:
        yield USER
        return
    # unique per run: a parallel run (another checkout) must not delete it
    with throwaway_user(f"wbxgood{os.getpid()}", "a fast-shell good client") as name:
        yield name


class GoodClient:
    """ssh -l user host true, once a second, in a thread; check() stops it,
    runs one more login and asserts every login worked within GOOD_BOUND."""

    def __init__(self, server, user, bound=GOOD_BOUND):
        self.server, self.user, self.bound = server, user, bound
        self.runs = []              # (returncode, seconds, stderr)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _login(self):
        t0 = time.monotonic()
        try:
            # ssh takes the first value of an option: replace conftest's
            connect_timeout = max(GOOD_CONNECT_TIMEOUT, int(self.bound))
            argv = [f"ConnectTimeout={connect_timeout}" if a == "ConnectTimeout=10"
                    else a for a in ssh_argv(self.server, "true", user=self.user)]
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=self.bound + 10)
            rc, err = r.returncode, r.stderr
        except Exception as e:      # a timeout is a failure like any other
            rc, err = -1, repr(e).encode()
        self.runs.append((rc, time.monotonic() - t0, err))

    def _loop(self):
        while not self._stop.is_set():
            t0 = time.monotonic()
            self._login()
            self._stop.wait(max(0.0, 1.0 - (time.monotonic() - t0)))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(self.bound + 15)
        if exc[0] is None:
            self.check()

    def check(self):
        self._login()
        bad = [r for r in self.runs if r[0] != 0 or r[1] > self.bound]
        assert not bad, (f"good client refused or slow in {len(bad)} of {len(self.runs)} "
                         f"logins: {bad[:3]}\n{self.server.log()[-3000:]}")
        assert self.server.alive(), f"daemon died:\n{self.server.log()[-3000:]}"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return []


def wait_for(pred, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    return pred()


class Attack:
    """Context: the good client runs in the background, and the listener's
    memory is compared before and after."""

    def __init__(self, server, user, good_bound=GOOD_BOUND):
        self.server = server
        self.good = GoodClient(server, user, good_bound)

    def __enter__(self):
        self.rss_before = rss_kib(self.server.pid)
        self.mark = self.server.mark()
        self.good.__enter__()
        return self

    def __exit__(self, *exc):
        self.good.__exit__(*exc)
        # under ASan the quarantine and shadow memory make RSS meaningless;
        # LeakSanitizer checks every process there instead
        if exc[0] is None and not SANITIZED:
            after = rss_kib(self.server.pid)
            assert after - self.rss_before < RSS_SLACK_KIB, \
                f"listener VmRSS {self.rss_before} -> {after} KiB"

    def log_count(self, pattern):
        import re
        return len(re.findall(pattern, self.server.log(self.mark), re.M))


@pytest.fixture
def attack(start_server, good_user, readable_keys):
    """attack(opts, good_bound) -> (server, Attack context)."""
    started = []

    def make(opts=(), good_bound=GOOD_BOUND):
        srv = start_server(list(opts), authorized_keys=readable_keys)
        started.append(srv)
        return srv, Attack(srv, good_user, good_bound)

    yield make
    for srv in started:
        srv.stop()


def is_closed(sock):
    """The server closed this socket (EOF or reset); reads what is pending."""
    sock.setblocking(False)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def connect(server):
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


# ----------------------------------------------------------------- slowloris

def test_slowloris_version_line(attack):
    """100 connections each sending one byte of a version line per second
    are cut by LoginGraceTime (5 s); MaxStartups 300 lets the good client
    through meanwhile. 100, not more: 2 shared cores."""
    srv, ctx = attack(["MaxStartups=300", f"LoginGraceTime={GRACE}"])
    with ctx:
        socks = [connect(srv) for _ in range(100)]
        line = b"SSH-2.0-slowloris-never-ends-its-version-line"
        for i in range(GRACE + 7):
            t0 = time.monotonic()
            for s in socks:
                try:
                    s.send(line[i:i + 1])
                except OSError:
                    pass
            time.sleep(max(0.0, 1.0 - (time.monotonic() - t0)))
        assert wait_for(lambda: all(is_closed(s) for s in socks), 10)
        for s in socks:
            s.close()
        assert srv.wait_log(ENDED + r".*LoginGraceTime", since=ctx.mark)
        assert ctx.log_count(ENDED + rf".*LoginGraceTime \({GRACE} s\)") >= 100


def test_stuck_mid_kex(attack):
    """100 connections sending their version and KEXINIT, then nothing, are
    cut by LoginGraceTime; the good client is served throughout."""
    srv, ctx = attack(["MaxStartups=300", f"LoginGraceTime={GRACE}"])
    with ctx:
        socks = []
        for _ in range(100):
            s = connect(srv)
            s.sendall(b"SSH-2.0-stuck\r\n" + plain_kexinit())
            socks.append(s)
        assert wait_for(lambda: all(is_closed(s) for s in socks), GRACE + 15)
        for s in socks:
            s.close()
        assert wait_for(lambda: ctx.log_count(ENDED + r".*LoginGraceTime") >= 100, 10)
        assert wait_for(lambda: not children(srv.pid), 10), children(srv.pid)


def test_stopped_preauth_child_ends_by_grace_time(start_server):
    """A pre-auth child that cannot run (stopped here; starved of CPU on a
    loaded machine) is ended by the monitor LoginGraceTime + 10 s later, and
    logged as the grace time's end (the penalty class of a silent client),
    not as a protocol error."""
    import signal
    # the child must still be there to be stopped: under the sanitizers a
    # loaded machine took about a second to start the connection process,
    # and a 1 s grace time then ended the child before the test saw it
    grace = 5 if SANITIZED else 1
    srv = start_server([f"LoginGraceTime={grace}"])
    mark = srv.mark()
    s = connect(srv)
    try:
        assert wait_for(lambda: children(srv.pid) and children(children(srv.pid)[0]), 10)
        child = children(children(srv.pid)[0])[0]
        os.kill(child, signal.SIGSTOP)
        assert closed_by_server(s, timeout=40)
    finally:
        s.close()
    m = srv.wait_log(ENDED + rf"LoginGraceTime \({grace} s\) exceeded before authentication "
                     r"\(the pre-auth child did not end in time\)", since=mark, timeout=10)
    assert m, srv.log(mark)[-2000:]
    assert "malformed" not in srv.log(mark)
    assert srv.alive()


def test_default_max_startups_drops_are_logged(start_server):
    """With the default MaxStartups 10:30:100, 100 pending connections make
    the listener drop new ones (that is the option's purpose, so no good
    client here): each drop is logged with the limit, the daemon lives,
    and logins work again once the pending ones are gone."""
    srv = start_server(["LoginGraceTime=30"])
    mark = srv.mark()
    socks = []
    for _ in range(100):
        s = connect(srv)
        s.sendall(b"SSH-2.0-stuck\r\n" + plain_kexinit())
        socks.append(s)
    assert srv.wait_log(r"drop connection from 127\.0\.0\.1.*MaxStartups 10:30:100",
                        since=mark, timeout=10), srv.log(mark)[-2000:]
    for s in socks:
        s.close()
    assert wait_for(lambda: not children(srv.pid), 15), children(srv.pid)
    r = ssh(srv, "true")
    assert r.returncode == 0, r.stderr
    assert srv.alive()
    srv.stop()


def test_thousand_half_open(attack):
    """1,000 connections left half-open (half send nothing, half shut their
    write side): the processes for them end (EOF at once, LoginGraceTime
    for the silent ones), the daemon lives and the good client is served.
    MaxStartups 1100 so that every one gets a process; RLIMIT_NOFILE of the
    test process is raised to hold the sockets. Bounds times HALF_OPEN_SCALE
    under the sanitizers."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1500:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    # the silent ones' grace is scaled too: under the sanitizers spawning
    # 1,000 connection processes held the good client past 5 s of its own
    srv, ctx = attack(["MaxStartups=1100", f"LoginGraceTime={5 * HALF_OPEN_SCALE}"],
                      good_bound=GOOD_BOUND * HALF_OPEN_SCALE)
    with ctx:
        socks = []
        for i in range(1000):
            s = connect(srv)
            if i % 2:
                s.shutdown(socket.SHUT_WR)
            socks.append(s)
        assert wait_for(lambda: all(is_closed(s) for s in socks), 30 * HALF_OPEN_SCALE)
        assert wait_for(lambda: not children(srv.pid), 20 * HALF_OPEN_SCALE), \
            len(children(srv.pid))
        for s in socks:
            s.close()
        assert ctx.log_count(ENDED + r".*LoginGraceTime") >= 400
        assert ctx.log_count(ENDED + r".*closed by client") >= 400


# ---------------------------------------------------------- broken packets

def raw_case(server, data):
    s = handshake_to_kexinit(server)
    s.sendall(data)
    return s


PACKETS = {
    "length 0": (struct.pack(">I", 0) + bytes(28), r"bad packet length 0 "),
    "length 4": (struct.pack(">I", 4) + bytes(28), r"bad packet length 4 "),
    "just over the maximum": (struct.pack(">IB", 256 * 1024 + 4, 4) + bytes(64),
                              r"bad packet length 262148 \(limit 262144\)"),
    "padding longer than packet": (struct.pack(">IB", 12, 200) + bytes(11),
                                   r"bad padding length"),
    "KEXINIT twice during a kex": (plain_kexinit(),
                                   r"unexpected second KEXINIT during key exchange"),
    "NEWKEYS before the kex reply": (plain_packet(bytes([21])), r"NEWKEYS out of order"),
}


@pytest.mark.parametrize("case", list(PACKETS))
def test_broken_packet(attack, case):
    """Malformed framing and out-of-order kex messages after our KEXINIT.
    (0xFFFFFFFF and bad MACs are in test_badinput.py.)"""
    data, why = PACKETS[case]
    srv, ctx = attack()
    with ctx:
        s = raw_case(srv, data)
        try:
            assert closed_by_server(s)
        finally:
            s.close()
        assert srv.wait_log(ENDED + r".*" + why, since=ctx.mark), srv.log(ctx.mark)[-2000:]


# --------------------------------------------------- raw messages via paramiko

def transport(server, user, keys, compress=False, auth=True):
    t = paramiko.Transport(("127.0.0.1", server.port))
    t.use_compression(compress)
    t.start_client(timeout=10)
    if auth:
        key = paramiko.Ed25519Key.from_private_key_file(keys.user["ed25519"])
        t.auth_publickey(user, key)
    return t


def msg(*parts):
    m = paramiko.Message()
    m.add_byte(bytes([parts[0]]))
    for p in parts[1:]:
        if isinstance(p, bool):
            m.add_boolean(p)
        elif isinstance(p, int):
            m.add_int(p)
        else:
            m.add_string(p)
    return m


def send(t, m):
    try:
        t._send_message(m)
    except (EOFError, OSError, paramiko.SSHException):
        pass


def wait_closed(t, timeout=15):
    ok = wait_for(lambda: not t.is_active(), timeout)
    t.close()
    return ok


def test_channel_message_before_auth(attack, good_user, keys):
    srv, ctx = attack()
    with ctx:
        t = transport(srv, good_user, keys, auth=False)
        send(t, msg(90, "session", 0, 65536, 32768))
        assert wait_closed(t), srv.log(ctx.mark)[-3000:]
        assert srv.wait_log(ENDED + r".*channel message 90 before authentication",
                            since=ctx.mark)


def test_service_request_after_auth(attack, good_user, keys):
    srv, ctx = attack()
    with ctx:
        t = transport(srv, good_user, keys)
        send(t, msg(5, "ssh-userauth"))
        assert wait_closed(t), srv.log(ctx.mark)[-3000:]
        assert srv.wait_log(ENDED + r".*service \"ssh-userauth\" not available",
                            since=ctx.mark)


AFTER_AUTH = {
    "KEXINIT twice in a rekey": ([kexinit_payload(), kexinit_payload()],
                                 r"unexpected second KEXINIT during key exchange"),
    "NEWKEYS with no key exchange": ([bytes([21])], r"NEWKEYS out of order"),
    "DATA for a channel never opened": ([bytes([94, 0, 0, 0, 77, 0, 0, 0, 1, 120])],
                                        r"protocol error in channel message 94"),
}


@pytest.mark.parametrize("case", list(AFTER_AUTH))
def test_out_of_order_after_auth(attack, good_user, keys, case):
    payloads, why = AFTER_AUTH[case]
    srv, ctx = attack()
    with ctx:
        t = transport(srv, good_user, keys)
        for p in payloads:
            send(t, paramiko.Message(p))
        assert wait_closed(t), srv.log(ctx.mark)[-3000:]
        assert srv.wait_log(ENDED + r".*" + why, since=ctx.mark), srv.log(ctx.mark)[-3000:]


def test_ten_thousand_channel_opens(attack, good_user, keys):
    """10,000 session opens on one connection: MaxSessions (3 here) are
    confirmed, the rest refused with OPEN_FAILURE; the connection stays
    usable (a command runs on a freed slot)."""
    srv, ctx = attack(["MaxSessions=3"])
    with ctx:
        t = transport(srv, good_user, keys)
        opened, refused = [], 0
        for _ in range(10000):
            try:
                opened.append(t.open_session(timeout=10))
            except paramiko.ChannelException as e:
                assert e.code == 1, e      # administratively prohibited
                refused += 1
        assert len(opened) == 3 and refused == 9997
        assert srv.wait_log(r"session open refused: MaxSessions 3 reached", since=ctx.mark)
        opened[0].close()
        assert wait_for(lambda: opened[0].closed, 5)
        time.sleep(0.3)
        ch = t.open_session(timeout=10)
        ch.exec_command("echo usable")
        assert ch.makefile().read() == b"usable\n"
        t.close()


def test_channel_table_bounds_a_large_max_sessions(attack, good_user, keys):
    """MaxSessions 100000: the channel table (256 per connection) is the
    bound; opens past it are refused as a resource shortage, logged."""
    srv, ctx = attack(["MaxSessions=100000"])
    with ctx:
        t = transport(srv, good_user, keys)
        opened, refused = [], 0     # kept: paramiko closes a channel it collects
        for _ in range(1000):
            try:
                opened.append(t.open_session(timeout=10))
            except paramiko.ChannelException as e:
                assert e.code == 4, e      # resource shortage
                refused += 1
        assert (len(opened), refused) == (256, 744)
        assert srv.wait_log(r"session open refused: 256 channels per connection",
                            since=ctx.mark)
        t.close()


def test_window_adjust_overflow(attack, good_user, keys):
    """RFC 4254 5.2: a window must not exceed 2^32-1; an adjust that would
    is a protocol error that ends the connection."""
    srv, ctx = attack()
    with ctx:
        t = transport(srv, good_user, keys)
        ch = t.open_session(timeout=10)
        send(t, msg(93, ch.remote_chanid, 0xFFFFFFFF))
        assert wait_closed(t), srv.log(ctx.mark)[-3000:]
        assert srv.wait_log(ENDED + r".*protocol error in channel message 93", since=ctx.mark)
        assert srv.wait_log(r"window adjust .* overflows", since=ctx.mark)


def test_data_past_the_window(attack, good_user, keys):
    """The server advertises a 2 MiB window; a command that never reads its
    stdin lets the window run out (after a pipe's worth), and DATA sent
    regardless of it is a protocol error. (Data for a channel with no
    command yet is discarded and the window re-opened.)"""
    srv, ctx = attack()
    with ctx:
        t = transport(srv, good_user, keys)
        ch = t.open_session(timeout=10)
        ch.exec_command("sleep 60")
        chunk = bytes(32768)
        for _ in range(100):
            send(t, msg(94, ch.remote_chanid, chunk))
        assert wait_closed(t), srv.log(ctx.mark)[-3000:]
        assert srv.wait_log(r"client sent 32768 bytes, window \d+,", since=ctx.mark)
        assert srv.wait_log(ENDED + r".*protocol error in channel message 94", since=ctx.mark)


def test_env_value_of_1_mib(attack, good_user, keys):
    """A 1 MiB env request does not fit in a packet: a clear framing error."""
    srv, ctx = attack(["AcceptEnv=WBX_*"])
    with ctx:
        t = transport(srv, good_user, keys)
        ch = t.open_session(timeout=10)
        send(t, msg(98, ch.remote_chanid, "env", False, "WBX_BIG", "v" * (1 << 20)))
        assert wait_closed(t), srv.log(ctx.mark)[-3000:]
        assert srv.wait_log(ENDED + r".*bad packet length \d+ \(limit 262144\)",
                            since=ctx.mark)


def test_ten_thousand_env_requests(attack, good_user, keys):
    """10,000 accepted env requests: the session keeps SESSION_MAX_ENV (64)."""
    srv, ctx = attack(["AcceptEnv=WBX_*"])
    with ctx:
        t = transport(srv, good_user, keys)
        ch = t.open_session(timeout=10)
        for i in range(10000):
            send(t, msg(98, ch.remote_chanid, "env", False, f"WBX_{i}", "x" * 100))
        ch.exec_command("env | grep -c '^WBX_'")
        assert ch.makefile().read() == b"64\n"
        t.close()


def test_absurd_pty_req(attack, good_user, keys):
    """pty-req with 2^32-1 columns and rows, a 1,000-byte terminal name and
    20 KB of odd terminal modes: the session runs on a terminal of the
    largest size a winsize holds."""
    srv, ctx = attack()
    with ctx:
        t = transport(srv, good_user, keys)
        ch = t.open_session(timeout=10)
        # VINTR, ISPEED, an unassigned opcode and IUTF8 with 2^32-1, then
        # OSPEED 0, 4,000 repeats of ECHO on, and an argument cut short
        big = b"\xff" * 4
        modes = (b"\x01" + big + b"\x80" + big + b"\x0b" + big + b"\x2a" + big
                 + b"\x81" + bytes(4) + b"\x35\x00\x00\x00\x01" * 4000 + b"\x1e\x00")
        send(t, msg(98, ch.remote_chanid, "pty-req", False, "x" * 1000,
                    0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, modes))
        time.sleep(0.5)
        ch.exec_command("stty size; echo done")
        out = ch.makefile().read()
        assert out == b"65535 65535\r\ndone\r\n", out
        assert srv.wait_log(r"malformed terminal modes; applied as far as they parsed",
                            since=ctx.mark)
        t.close()


def test_subsystem_name_of_1_mib(attack, good_user, keys):
    """Subsystem names: 1 MiB does not fit in a packet (framing error); 200 KiB
    fits and is refused, leaving the connection usable."""
    srv, ctx = attack()
    with ctx:
        t = transport(srv, good_user, keys)
        ch = t.open_session(timeout=10)
        with pytest.raises(paramiko.SSHException):
            ch.invoke_subsystem("s" * (200 * 1024))
        ch2 = t.open_session(timeout=10)
        ch2.exec_command("echo usable")
        assert ch2.makefile().read() == b"usable\n"
        ch3 = t.open_session(timeout=10)
        send(t, msg(98, ch3.remote_chanid, "subsystem", True, "s" * (1 << 20)))
        assert wait_closed(t), srv.log(ctx.mark)[-3000:]
        assert srv.wait_log(ENDED + r".*bad packet length \d+ \(limit 262144\)",
                            since=ctx.mark)


def test_compression_bomb(attack, good_user, keys):
    """zlib@openssh.com, then an IGNORE whose payload inflates to 10 MiB (it
    compresses to about 10 KB): inflation is bounded per packet and the
    connection is cut with a reason."""
    srv, ctx = attack(["Compression=yes"])
    with ctx:
        t = transport(srv, good_user, keys, compress=True)
        assert t.remote_compression == "zlib@openssh.com"
        assert len(zlib.compress(bytes(10 << 20))) < 64 * 1024
        send(t, msg(2, bytes(10 << 20)))
        assert wait_closed(t), srv.log(ctx.mark)[-3000:]
        assert srv.wait_log(ENDED + r".*decompressed packet too large", since=ctx.mark)
