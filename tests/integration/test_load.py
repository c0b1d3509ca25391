"""Load: CONNECTIONS (200) concurrent connections to one wombatd, each
opening and closing exec sessions and -L style (direct-tcpip) forwards for
SECONDS, while a normal OpenSSH client logs in and runs a command about
once a second.

The load clients are python3-asyncssh connections in one asyncio loop in
this process, not OpenSSH processes: 200 ssh processes, and a process for
each session or forward they start, would take most of this machine's two
cores themselves; one event loop holds all 200 connections (its crypto in
OpenSSL) and is a third SSH implementation besides OpenSSH and paramiko.
Every fourth connection negotiates zlib@openssh.com, the rest none. The
normal client is the real ssh.

All connections log in first (CONNECTING_AT_ONCE handshakes at a time),
then each one, until the common deadline, runs rounds over its connection of
an exec and two forwards at the same time:
  - exec "echo TOKEN; sha256sum" with random bytes on stdin (0 to 32 KiB;
    the warm-up's none) and the client's EOF: the output must be that
    session's own token and the checksum of what it sent, exit status 0,
    no stderr;
  - a direct-tcpip channel to an echo server this test runs on 127.0.0.1:
    random bytes out (up to 256 KiB; every 32nd forward 3 MiB, past the
    client's 2 MiB window), the client's EOF, everything back up to the
    target's EOF (half-close both ways); the checksums must match.
Every tenth connection then ends without a word: it starts "exec sleep
600" and a forward, and once both are running drops the TCP connection
(the daemon must end that session's process and close the forward).
At most IN_FLIGHT rounds run at once, taken in turn by all connections:
with no cap, 200 execs at once put several hundred runnable processes on
two cores, and every process on the machine (the normal client included)
gets a few hundredths of a core, which tests the kernel's scheduler rather
than wombatd. The cap changes the concurrency, not the work done: a
session costs the server a fork and two execs (tens of ms of CPU here),
and the machine is saturated either way.

Any error, mismatch or hang (OP_BOUND) fails the test; so does a normal
login refused, wrong or slower than NORMAL_BOUND. Afterwards every
connection closes, and the daemon must have closed every connection to the
echo server, the listener must have no connection process left, the
throw-away user no process, the listener its baseline descriptors and
its PSS and RSS within MEMORY_SLACK_KIB of the baseline (taken after a
warm-up connection with a session and a forward).

Options set for the load, so that it is not refused by design:
  MaxStartups 256  the default 10:30:100 starts dropping connections once
                   10 are authenticating; the ramp has up to 20 at once,
                   and the normal client's on top.
  LogLevel VERBOSE conftest's DEBUG1 writes several lines per channel;
                   VERBOSE still logs each connection, session and forward.
MaxSessions (10) is not reached: a connection has at most one session (and
two forwards) open at a time. Per-source penalties do not apply: conftest
exempts 127.0.0.1, and every load connection authenticates anyway.

Knobs: WOMBAT_LOAD_CONNECTIONS (200; 50 under the sanitizers, where each
connection costs several times more), WOMBAT_LOAD_SECONDS (45) and
WOMBAT_LOAD_IN_FLIGHT (16). The issue asks for a minute per connection;
the ramp-up (200 logins cost about 9 s of CPU here, 30-40 ms in the
daemon and 6-10 ms in this process each; it took about 30 s with other test
runs keeping the load at 100+) and the ending come on top, and 45 s is what
keeps the test near 90 s on this shared machine, the part of make check CI
can spend on it. WOMBAT_LOAD_SECONDS=60 runs the full minute.
"""
import asyncio
import hashlib
import os
import pwd
import random
import re
import resource
import subprocess
import threading
import time
import warnings

import pytest

from conftest import IS_ROOT, SANITIZED, SERVER_KIND, USER, ssh_argv, throwaway_user

with warnings.catch_warnings():
    warnings.simplefilter("ignore")     # asyncssh imports deprecated ciphers
    import asyncssh

CONNECTIONS = int(os.environ.get("WOMBAT_LOAD_CONNECTIONS", "50" if SANITIZED else "200"))
SECONDS = float(os.environ.get("WOMBAT_LOAD_SECONDS", "45"))
# handshakes in flight while logging in (the listen backlog is 128; under
# ASan each connection process costs several times more to start)
CONNECTING_AT_ONCE = 5 if SANITIZED else 20
IN_FLIGHT = int(os.environ.get("WOMBAT_LOAD_IN_FLIGHT", "16"))  # rounds running at once
OP_BOUND = 60.0             # s: an exec or forward that takes longer is a hang
CONNECT_BOUND = 120.0       # s: one load connection's login
# s: the normal client's login + command. A bound for refusal and hangs,
# not speed: on this shared 2-core machine at load 50-120 a plain login took
# over a second unloaded and up to 8 s with the load running (ASan: 16-40 s).
NORMAL_BOUND = 120.0 if SANITIZED else 60.0
MEMORY_SLACK_KIB = 1024     # listener PSS / RSS growth allowed over the run
EXEC_MAX = 32 * 1024        # bytes on an exec's stdin (random size up to this)
FORWARD_MAX = 256 * 1024    # bytes through a forward each way (random size up to this)
BIG_FORWARD = 3 << 20       # every BIG_EVERY-th forward: past asyncssh's 2 MiB window
BIG_EVERY = 32
ABANDON_EVERY = 10          # every 10th connection ends by dropping TCP mid-round

pytestmark = pytest.mark.skipif(SERVER_KIND != "wombatd",
                                reason="looks at wombatd's own processes and memory")


# --------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def user():
    """A throw-away user with /bin/sh: root's .bashrc here runs pyenv,
    0.6 s of CPU per session, which this many sessions cannot afford."""
    if not IS_ROOT:
        yield USER
        return
    # unique per run: a parallel run (another checkout) must not delete it
    with throwaway_user(f"wflload{os.getpid()}", "a fast-shell load user") as name:
        yield name


# -------------------------------------------------- the listener, from /proc

def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return []


def processes_of(uid):
    """PIDs of the processes whose real uid is uid."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as f:
                m = re.search(r"^Uid:\s+(\d+)", f.read(), re.M)
        except OSError:
            continue                # gone meanwhile
        if m and int(m.group(1)) == uid:
            found.append(int(name))
    return found


def memory_kib(pid):
    """(PSS, RSS) of a process, in KiB."""
    with open(f"/proc/{pid}/smaps_rollup") as f:
        text = f.read()
    return tuple(int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1))
                 for field in ("Pss", "Rss"))


def open_fds(pid):
    return sorted(int(n) for n in os.listdir(f"/proc/{pid}/fd"))


def wait_no_connections(server, timeout):
    """Wait until the listener has no child; returns those left."""
    deadline = time.monotonic() + timeout
    while children(server.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return children(server.pid)


def cpu_seconds(pid):
    """CPU time of a process and of its children it has reaped."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(t) for t in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def listener_state(server):
    time.sleep(0.5)     # the listener closes a reaped child's pipe on its next turn
    pss, rss = memory_kib(server.pid)
    return {"fds": open_fds(server.pid), "pss": pss, "rss": rss}


# --------------------------------------------------------- the normal client

class NormalClient:
    """`ssh host echo normal-N` with OpenSSH about once a second, in a
    thread; each run must print its own word within NORMAL_BOUND."""

    def __init__(self, server, user):
        self.server, self.user = server, user
        self.runs = []              # (ok, seconds, detail)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _login(self, n):
        word = f"normal-{n}"
        # ssh takes the first value of an option: replace conftest's
        argv = [f"ConnectTimeout={int(NORMAL_BOUND)}" if a == "ConnectTimeout=10" else a
                for a in ssh_argv(self.server, "echo", word, user=self.user)]
        t0 = time.monotonic()
        try:
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=NORMAL_BOUND + 10)
            ok = r.returncode == 0 and r.stdout == f"{word}\n".encode()
            detail = (r.returncode, r.stdout[-200:], r.stderr[-500:])
        except subprocess.TimeoutExpired as e:
            ok, detail = False, repr(e)
        took = time.monotonic() - t0
        self.runs.append((ok and took <= NORMAL_BOUND, took, detail))

    def _loop(self):
        n = 0
        while not self._stop.is_set():
            t0 = time.monotonic()
            self._login(n)
            n += 1
            self._stop.wait(max(0.0, 1.0 - (time.monotonic() - t0)))

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(NORMAL_BOUND + 20)

    def worst(self):
        return max((took for _, took, _ in self.runs), default=0.0)

    def failures(self):
        return [r for r in self.runs if not r[0]]


# ------------------------------------------------------------- the load

class Stats:
    def __init__(self):
        self.connected = 0
        self.closed = 0
        self.sessions = 0
        self.forwards = 0
        self.bytes_exec = 0         # stdin bytes the sessions checksummed
        self.bytes_forward = 0      # bytes through the forwards, both ways
        self.rounds = []            # rounds done, per connection
        self.abandoned = 0          # connections dropped mid-round on purpose
        self.errors = []            # (connection, what went wrong)


class EchoServer:
    """The forwards' target: echoes each connection up to its EOF, then closes."""

    def __init__(self):
        self.accepted = 0
        self.open = 0               # connections not yet closed by the daemon

    async def start(self):
        # a deep accept queue: with the loop busy, asyncio's default of 100
        # overflows, and the daemon's connects time out in SYN retries
        self.server = await asyncio.start_server(self._echo, "127.0.0.1", 0, backlog=4096)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _echo(self, reader, writer):
        self.accepted += 1
        self.open += 1
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass                    # the test's side then sees a short echo
        finally:
            writer.close()
            self.open -= 1

    async def all_closed(self, timeout):
        """Wait until the daemon has closed every connection to us."""
        deadline = time.monotonic() + timeout
        while self.open and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        return self.open == 0

    async def stop(self):
        self.server.close()
        await self.server.wait_closed()


async def bounded(what, coro, seconds=OP_BOUND):
    try:
        return await asyncio.wait_for(coro, seconds)
    except asyncio.TimeoutError:
        raise AssertionError(f"{what} hung for over {seconds} s") from None


class Load:
    def __init__(self, server, user, key, echo):
        self.server, self.user, self.key, self.echo = server, user, key, echo
        self.stats = Stats()
        self.random = os.urandom(FORWARD_MAX + EXEC_MAX)   # payloads are slices of it
        self.big = os.urandom(BIG_FORWARD)
        self.n_forwards_started = 0
        self.deadline = None

    def payload(self, most):
        size = random.randint(0, most)
        start = random.randint(0, len(self.random) - size)
        return self.random[start:start + size]

    async def connect(self, idx=0):
        compression = ["zlib@openssh.com"] if idx % 4 == 3 else ["none"]
        return await asyncssh.connect(
            "127.0.0.1", port=self.server.port, username=self.user, known_hosts=None,
            client_keys=[self.key], agent_path=None, config=None,
            compression_algs=compression)

    async def one_exec(self, conn, token, data=None):
        if data is None:
            data = self.payload(EXEC_MAX)
        # not conn.run(input=data): asyncssh sends no EOF when data is empty
        # (1 exec in 32769), and sha256sum would wait for it for ever
        proc = await conn.create_process(f"echo {token}; sha256sum", encoding=None)
        proc.stdin.write(data)
        proc.stdin.write_eof()
        r = await proc.wait()
        want = f"{token}\n{hashlib.sha256(data).hexdigest()}  -\n".encode()
        if r.exit_status != 0 or r.stdout != want or r.stderr:
            raise AssertionError(f"exec {token}: status {r.exit_status}, signal "
                                 f"{r.exit_signal}, stdout {r.stdout[:200]!r} (want "
                                 f"{want!r}), stderr {r.stderr[:200]!r}")
        self.stats.sessions += 1
        self.stats.bytes_exec += len(data)

    async def one_forward(self, conn, token):
        self.n_forwards_started += 1
        big = self.n_forwards_started % BIG_EVERY == 0
        data = self.big if big else self.payload(FORWARD_MAX)
        reader, writer = await conn.open_connection("127.0.0.1", self.echo.port)
        try:
            writer.write(data)
            writer.write_eof()
            back = await reader.read()          # up to the target's EOF
        finally:
            writer.close()
        if hashlib.sha256(back).digest() != hashlib.sha256(data).digest():
            raise AssertionError(f"forward {token}: sent {len(data)} bytes, got "
                                 f"{len(back)} back, checksums differ")
        self.stats.forwards += 1
        self.stats.bytes_forward += 2 * len(data)

    async def abandon(self, conn, token):
        """Start a session that would run for 10 minutes and a forward
        halfway through, then drop the TCP connection without a word: the
        daemon must end the session's process and close the forward."""
        proc = await conn.create_process(f"echo {token}; exec sleep 600", encoding=None)
        line = await proc.stdout.readline()
        if line != f"{token}\n".encode():
            raise AssertionError(f"abandoned session {token}: got {line!r}")
        reader, writer = await conn.open_connection("127.0.0.1", self.echo.port)
        writer.write(self.random)
        await reader.readexactly(EXEC_MAX)      # the echo is flowing
        conn.abort()
        self.stats.abandoned += 1

    async def log_in(self, idx, gate):
        async with gate:
            conn = await bounded(f"connection {idx}: login", self.connect(idx),
                                 CONNECT_BOUND)
        self.stats.connected += 1
        return conn

    async def work(self, idx, conn, in_flight):
        rounds = 0
        try:
            while rounds == 0 or time.monotonic() < self.deadline:
                token = f"c{idx}r{rounds}"
                async with in_flight:
                    if rounds and time.monotonic() >= self.deadline:
                        break       # queued for a turn past the deadline
                    await asyncio.gather(
                        bounded(f"exec {token}", self.one_exec(conn, token)),
                        bounded(f"forward {token}a", self.one_forward(conn, token + "a")),
                        bounded(f"forward {token}b", self.one_forward(conn, token + "b")))
                rounds += 1
            if idx % ABANDON_EVERY == ABANDON_EVERY - 1:
                async with in_flight:
                    await bounded(f"abandon c{idx}", self.abandon(conn, f"c{idx}end"))
        finally:
            self.stats.rounds.append(rounds)
            conn.close()
            await bounded(f"connection {idx}: close", conn.wait_closed())
        self.stats.closed += 1

    async def guarded(self, idx, coro):
        """Run coro; an exception is recorded (all are reported), not raised."""
        try:
            return await coro
        except Exception as e:      # noqa: BLE001
            self.stats.errors.append((idx, f"{type(e).__name__}: {e}"))
            return None

    async def run(self):
        t0 = time.monotonic()
        gate = asyncio.Semaphore(CONNECTING_AT_ONCE)
        conns = await asyncio.gather(*(self.guarded(i, self.log_in(i, gate))
                                       for i in range(CONNECTIONS)))
        self.login_seconds = time.monotonic() - t0
        self.deadline = time.monotonic() + SECONDS
        in_flight = asyncio.Semaphore(IN_FLIGHT)
        await asyncio.gather(*(self.guarded(i, self.work(i, conn, in_flight))
                               for i, conn in enumerate(conns) if conn is not None))
        self.seconds = time.monotonic() - t0

    async def warm_up(self):
        """One connection with a session and a forward, so that the
        listener's baseline is taken after its first connection."""
        conn = await bounded("warm-up login", self.connect(), CONNECT_BOUND)
        # with no input: the client's EOF alone must end sha256sum
        await bounded("warm-up exec", self.one_exec(conn, "warm", b""))
        await bounded("warm-up forward", self.one_forward(conn, "warm"))
        conn.close()
        await conn.wait_closed()
        self.stats = Stats()


def failed_connection_log(log, idx, most=12000):
    """The daemon's lines for load connection idx: those of the connection
    process that ran its sessions (found by an exec's token, "echo cIDXr"),
    else the log's tail."""
    m = re.search(rf"^wombatd\[\d+\]: (\[[^\]]+\]) session channel \d+: exec \"echo c{idx}[re]",
                  log, re.M)
    if not m:
        return f"(no exec of connection {idx} in the log; its tail:)\n{log[-3000:]}"
    lines = [line for line in log.splitlines() if m.group(1) in line]
    return f"the daemon's lines for {m.group(1)}:\n" + "\n".join(lines)[-most:]


# ------------------------------------------------------------------- test

def test_load_sessions_and_forwards(start_server, user, readable_keys, keys):
    """CONNECTIONS concurrent asyncssh connections run exec sessions and
    direct-tcpip forwards, checksummed, for SECONDS; a normal OpenSSH
    client is served within NORMAL_BOUND throughout; afterwards the
    listener is back to its baseline and no process is left."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 4 * CONNECTIONS + 256)     # the connections, forwards, echoes
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    srv = start_server(["MaxStartups=256", "LogLevel=VERBOSE"], authorized_keys=readable_keys)
    uid = pwd.getpwnam(user).pw_uid
    key = asyncssh.read_private_key(keys.user["ed25519"])
    loop = asyncio.new_event_loop()
    normal = NormalClient(srv, user)
    echo = EchoServer()
    try:
        loop.run_until_complete(echo.start())
        load = Load(srv, user, key, echo)
        loop.run_until_complete(load.warm_up())
        r = subprocess.run(ssh_argv(srv, "echo", "warm", user=user), capture_output=True,
                           stdin=subprocess.DEVNULL, timeout=NORMAL_BOUND)
        assert r.returncode == 0 and r.stdout == b"warm\n", r.stderr
        assert not wait_no_connections(srv, 30), "the warm-up connections did not end"
        before = listener_state(srv)
        mark = srv.mark()

        normal.start()
        cpu_before = own_cpu_seconds(), cpu_seconds(srv.pid)
        loop.run_until_complete(load.run())
        client_cpu = own_cpu_seconds() - cpu_before[0]
        normal.stop()
        # the dropped connections' forwards too
        targets_closed = loop.run_until_complete(echo.all_closed(30))
    finally:
        normal.stop()
        loop.run_until_complete(echo.stop())
        loop.close()

    stats = load.stats
    rounds = sorted(stats.rounds) or [0]
    print(f"\n{CONNECTIONS} connections, logged in after {load.login_seconds:.1f} s, "
          f"{load.seconds:.1f} s in all; {stats.sessions} sessions and {stats.forwards} "
          f"forwards ({rounds[0]}..{rounds[-1]} rounds per connection), "
          f"{stats.abandoned} dropped mid-round; {stats.bytes_exec} "
          f"bytes checksummed by sessions, {stats.bytes_forward} through forwards; "
          f"normal client: {len(normal.runs)} logins, worst {normal.worst():.2f} s")
    assert not stats.errors, (f"{len(stats.errors)} connection(s) failed, the first: "
                              f"{stats.errors[:5]}\n"
                              f"{failed_connection_log(srv.log(mark), stats.errors[0][0])}")
    assert stats.connected == stats.closed == CONNECTIONS
    assert stats.abandoned == CONNECTIONS // ABANDON_EVERY
    assert targets_closed, f"{echo.open} connections to the target left open"
    bad = normal.failures()
    assert normal.runs and not bad, \
        f"normal client refused or slow in {len(bad)} of {len(normal.runs)}: {bad[:3]}"

    left = wait_no_connections(srv, 30)
    assert not left, f"connection processes left: {left}"
    deadline = time.monotonic() + 10        # a session's process on its way out
    while processes_of(uid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not processes_of(uid), f"the user's processes left: {processes_of(uid)}"
    after = listener_state(srv)
    print(f"CPU: load client {client_cpu:.1f} s, wombatd {cpu_seconds(srv.pid) - cpu_before[1]:.1f} s")
    print(f"listener: {len(before['fds'])} -> {len(after['fds'])} fds, PSS {before['pss']} "
          f"-> {after['pss']} KiB, RSS {before['rss']} -> {after['rss']} KiB")
    log = srv.log(mark)
    assert not re.search(r"MaxStartups|penalty:", log), "load refused by design"
    ended = re.findall(r"Connection from 127\.0\.0\.1 port \d+ ended: ", log)
    assert len(ended) == CONNECTIONS + len(normal.runs)
    assert after["fds"] == before["fds"]
    if not SANITIZED:        # ASan's quarantine grows memory; LSan checks leaks there
        assert after["pss"] - before["pss"] < MEMORY_SLACK_KIB
        assert after["rss"] - before["rss"] < MEMORY_SLACK_KIB
