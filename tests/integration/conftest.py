"""Fixtures for the integration tests: keys, a real wombatd on 127.0.0.1,
and helpers to drive real clients against it.

Set WOMBAT_TEST_SERVER=sshd to run the same tests against OpenSSH's sshd
(proves the tests themselves are right); the default is ./wombatd.

WOMBAT_BIN_DIR (default: the top of the tree) is where wombatd,
wombat-keygen, tests/unit/* and tests/tools/* are taken from; `make
check-asan` points it at build-asan/. WOMBAT_SANITIZER_REPORTS names the
directory the sanitizers write their reports to (ASAN_OPTIONS/UBSAN_OPTIONS
log_path): the run fails if any report in it is non-empty.
WOMBAT_SERVER_WRAPPER is a command line the wombatd servers of start_server
run under (make check-valgrind: valgrind and its options).

A connection process that dies of a fault signal (the listener logs
"connection process PID killed by signal SIGSEGV") fails the run, in every
build, unless the test crashed it on purpose (Server.expect_crash): a crash
the sanitizers did not catch is still a crash.
"""
import fcntl
import getpass
import hashlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN_DIR = os.path.abspath(os.environ.get("WOMBAT_BIN_DIR") or REPO)
WOMBATD = os.path.join(BIN_DIR, "wombatd")
WOMBAT_KEYGEN = os.path.join(BIN_DIR, "wombat-keygen")
SANITIZER_REPORTS = os.environ.get("WOMBAT_SANITIZER_REPORTS")
# A command the servers start_server starts run under (make check-valgrind).
SERVER_WRAPPER = shlex.split(os.environ.get("WOMBAT_SERVER_WRAPPER", ""))
# The sanitizer build refuses to start with a library preloaded ahead of its
# runtime, so tests that need LD_PRELOAD cannot run against it.
SANITIZED = bool(SANITIZER_REPORTS)
# ssh's ConnectTimeout (connect and banner): under valgrind (check-valgrind)
# each connection process is itself started under valgrind first.
CONNECT_TIMEOUT = 60 if SERVER_WRAPPER else 10
# The sanitizers' settings, for tests that start wombatd with an environment
# of their own making (else its reports would go to its stderr, unchecked).
SANITIZER_ENV = {name: os.environ[name] for name in
                 ("ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS") if name in os.environ}
SSHD = "/usr/sbin/sshd"
SSH = "/usr/bin/ssh"
SSH_KEYGEN = "/usr/bin/ssh-keygen"
SERVER_KIND = os.environ.get("WOMBAT_TEST_SERVER", "wombatd")
USER = getpass.getuser()
IS_ROOT = os.geteuid() == 0

# Algorithms the first release supports (DESIGN.md "Algorithms").
KEX_ALGS = ["sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com",
            "curve25519-sha256", "curve25519-sha256@libssh.org",
            "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
            "diffie-hellman-group14-sha256", "diffie-hellman-group16-sha512",
            "diffie-hellman-group18-sha512", "diffie-hellman-group-exchange-sha256"]
HOSTKEY_ALGS = ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256"]
CIPHERS = ["chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com",
           "aes256-gcm@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr"]
MACS = ["hmac-sha2-256", "hmac-sha2-512",
        "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com",
        "hmac-sha1", "hmac-sha1-etm@openssh.com"]


def built(*parts):
    """Path of a file the build makes (e.g. built("tests", "unit",
    "test_curve25519")), under WOMBAT_BIN_DIR."""
    return os.path.join(BIN_DIR, *parts)


def pytest_configure(config):
    # Noise from Debian's paramiko/asyncssh stacks, not from wombat.
    config.addinivalue_line("filterwarnings", "ignore:the imp module is deprecated")
    config.addinivalue_line("filterwarnings", "ignore:.* has been deprecated")


# ---------------------------------------------------------- sanitizer reports

def sanitizer_reports():
    """Non-empty report files in WOMBAT_SANITIZER_REPORTS (none if unset)."""
    if not SANITIZER_REPORTS or not os.path.isdir(SANITIZER_REPORTS):
        return set()
    found = set()
    for name in os.listdir(SANITIZER_REPORTS):
        path = os.path.join(SANITIZER_REPORTS, name)
        if os.path.isfile(path) and os.path.getsize(path) > 0:
            found.add(path)
    return found


_report_first_seen = {}


@pytest.fixture(autouse=True)
def _note_sanitizer_reports(request):
    """Remember after which test each report first appeared (reports of
    module servers show up after the module's last test)."""
    yield
    for path in sanitizer_reports() - set(_report_first_seen):
        _report_first_seen[path] = request.node.nodeid


# Connection processes that died of a fault signal nobody asked for:
# (server log, log line), collected by Server.stop().
_unexpected_crashes = []
# What src/penalty.c counts as a crash.
FAULT_SIGNALS = ("SEGV", "BUS", "ILL", "FPE", "ABRT", "SYS", "TRAP")
CRASH_LINE = re.compile(rf"connection process (\d+) killed by signal SIG({'|'.join(FAULT_SIGNALS)})\b")


def pytest_sessionfinish(session, exitstatus):
    """Fail the run if any sanitizer report was written or any connection
    process crashed unexpectedly (servers are all stopped by now: session
    fixtures are torn down before this hook)."""
    if sanitizer_reports() or _unexpected_crashes:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    """Print every unexpected crash, and every sanitizer report with the
    test it followed."""
    if _unexpected_crashes:
        terminalreporter.section(f"{len(_unexpected_crashes)} connection process(es) "
                                 "crashed", red=True)
        for log_path, line in _unexpected_crashes:
            terminalreporter.write_line(f"{log_path}: {line}")
    reports = sorted(sanitizer_reports())
    if not reports:
        return
    terminalreporter.section(f"{len(reports)} sanitizer report(s) in {SANITIZER_REPORTS}",
                             red=True)
    for path in reports:
        seen = _report_first_seen.get(path, "the last test")
        terminalreporter.write_line(f"==== {path} (first seen after {seen})")
        with open(path, errors="replace") as f:
            terminalreporter.write_line(f.read())


# --------------------------------------------------------------------- keys

def keygen(path, ktype, bits=None):
    """Make an unencrypted OpenSSH key pair at path / path.pub."""
    cmd = [SSH_KEYGEN, "-q", "-t", ktype, "-N", "", "-C", os.path.basename(path),
           "-f", str(path)]
    if bits:
        cmd[2:2] = ["-b", str(bits)]
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL)
    return str(path)


def fingerprint(pubkey_path):
    """SHA256:... fingerprint of a public key file."""
    out = subprocess.run([SSH_KEYGEN, "-lf", pubkey_path], check=True,
                         capture_output=True, text=True).stdout
    return out.split()[1]


class Keys:
    """All key material for a test session, generated once (rsa is slow).

    user:  name -> private key path, all listed in authorized_keys
    wrong: private key paths that are NOT authorized
    host:  "ed25519" | "ecdsa" | "rsa" -> host private key path
    """

    def __init__(self, root):
        self.dir = str(root)
        self.user = {
            "ed25519": keygen(root / "id_ed25519", "ed25519"),
            "ecdsa256": keygen(root / "id_ecdsa256", "ecdsa", 256),
            "ecdsa384": keygen(root / "id_ecdsa384", "ecdsa", 384),
            "ecdsa521": keygen(root / "id_ecdsa521", "ecdsa", 521),
            "rsa": keygen(root / "id_rsa", "rsa", 3072),
        }
        self.wrong = [keygen(root / f"wrong_{i}", "ed25519") for i in range(3)]
        self.host = {
            "ed25519": keygen(root / "ssh_host_ed25519_key", "ed25519"),
            "ecdsa": keygen(root / "ssh_host_ecdsa_key", "ecdsa", 256),
            "rsa": keygen(root / "ssh_host_rsa_key", "rsa", 3072),
        }
        self.authorized_keys = str(root / "authorized_keys")
        with open(self.authorized_keys, "w") as out:
            for path in self.user.values():
                with open(path + ".pub") as pub:
                    out.write(pub.read())
        os.chmod(self.authorized_keys, 0o600)

    def host_fingerprints(self):
        return {name: fingerprint(path + ".pub") for name, path in self.host.items()}


# Root's ~/.bashrc on the project's machines runs `pyenv init`, whose rehash
# takes a lock file (~/.pyenv/shims/.pyenv-shim) and removes it on exit.
# Tests that hang up or kill sessions on purpose (kill modes, vanished
# clients) can kill a shell inside that rehash: the lock stays, and every
# later root login then waits 60 s for it. Remove such a leftover before
# each test: a live rehash holds it well under a second (waiting rehashes
# do not touch it). Nothing of wombat's is involved.
PYENV_LOCK = os.path.expanduser("~/.pyenv/shims/.pyenv-shim")


@pytest.fixture(autouse=True)
def _no_stale_pyenv_lock():
    try:
        age = time.time() - os.path.getmtime(PYENV_LOCK)
    except OSError:
        age = None
    if age is not None and age > 15:
        try:
            os.unlink(PYENV_LOCK)
        except OSError:
            pass
    yield


@pytest.fixture(scope="session")
def keys(tmp_path_factory):
    return Keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def readable_keys(keys):
    """A copy of authorized_keys a throw-away user can read (pytest's tmp
    directories are root's, mode 0700)."""
    import tempfile
    d = tempfile.mkdtemp(prefix="wombat-keys-")
    os.chmod(d, 0o755)
    path = os.path.join(d, "authorized_keys")
    shutil.copy(keys.authorized_keys, path)
    os.chmod(path, 0o644)
    yield path
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def bigfile(tmp_path_factory):
    """(path, sha256 hex) of a 64 MiB random file."""
    path = tmp_path_factory.mktemp("data") / "big.bin"
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        for _ in range(64):
            chunk = os.urandom(1 << 20)
            digest.update(chunk)
            f.write(chunk)
    os.chmod(path, 0o644)
    return str(path), digest.hexdigest()


# ------------------------------------------------------------------- server

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Server:
    """One running server process (wombatd, or sshd for cross-checking)."""

    def __init__(self, kind, port, log_path, argv, env=None):
        self.kind = kind
        self.port = port
        self.log_path = log_path
        self.argv = argv
        self.env = None if env is None else dict(os.environ, **env)
        self.proc = None
        self.expected_crashes = set()
        self._crashes_checked = False

    @property
    def pid(self):
        return self.proc.pid

    def start(self, timeout=15):
        self._log = open(self.log_path, "ab")
        self._log_start = self.mark()   # the file may hold an earlier server's log
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True, env=self.env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode} "
                                   f"before listening:\n{self.log()}")
            if port_accepts(self.port):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.kind} did not listen on port {self.port} "
                           f"within {timeout}s:\n{self.log()}")

    def alive(self):
        """The daemon process itself is still running."""
        if self.proc is None or self.proc.poll() is not None:
            return False
        try:
            os.kill(self.proc.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc is not None:
            # Connection children are in the daemon's process group.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None
        self._note_crashes()

    def expect_crash(self, pid):
        """The test crashes connection process pid on purpose."""
        self.expected_crashes.add(pid)

    def _note_crashes(self):
        if self._crashes_checked or self.kind != "wombatd" or self.proc is None:
            return
        self._crashes_checked = True
        for m in CRASH_LINE.finditer(self.log(getattr(self, "_log_start", 0))):
            if int(m.group(1)) not in self.expected_crashes:
                _unexpected_crashes.append((self.log_path, m.group(0)))

    # --- log access
    def mark(self):
        """Current end of the log; pass to log()/wait_log() to see only newer lines."""
        try:
            return os.path.getsize(self.log_path)
        except FileNotFoundError:
            return 0

    def log(self, since=0):
        with open(self.log_path, "rb") as f:
            f.seek(since)
            return f.read().decode("utf-8", "replace")

    def wait_log(self, pattern, since=0, timeout=5.0):
        """Wait until the log (from `since`) matches regex `pattern`
        (case-insensitive); return the match or None."""
        rx = re.compile(pattern, re.I | re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.log(since))
            if m or time.monotonic() >= deadline:
                return m
            time.sleep(0.05)


def server_argv(kind, port, host_keys, authorized_keys, extra_opts, config_file=None):
    opts = ["ListenAddress=127.0.0.1", f"AuthorizedKeysFile={authorized_keys}",
            "StrictModes=no", "LogLevel=DEBUG1", "PidFile=none"]
    if kind != "sshd":
        # Per-source penalties are on by default; the tests' many deliberate
        # failures from 127.0.0.1 must not lock out the next test.
        # test_penalties.py uses 127.0.0.2 and .3 (and may override this).
        opts.append("PerSourcePenaltyExemptList=127.0.0.1")
    opts += list(extra_opts)
    if kind == "sshd":
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        argv = [SSHD, "-D", "-e", "-f", config_file or "/dev/null", "-p", str(port)]
    else:
        if not os.access(WOMBATD, os.X_OK):
            raise RuntimeError(f"{WOMBATD} is not built: run make first")
        argv = SERVER_WRAPPER + [WOMBATD, "-D", "-e", "-p", str(port)]
        if config_file:
            argv += ["-f", config_file]
    for key in host_keys:
        argv += ["-h", key]
    for opt in opts:
        argv += ["-o", opt]
    return argv


@pytest.fixture(scope="session")
def start_server(keys, tmp_path_factory):
    """Factory: start_server(extra_opts=(), host_keys=None, authorized_keys=None,
    config=None, env=None) starts a server on a free port and returns a
    Server; config is the text of a configuration file (for Match blocks,
    which -o cannot give; -o options still come first and win); env adds to
    the server's environment. Every server is stopped at
    the end of the session (or earlier with server.stop())."""
    servers = []
    logdir = tmp_path_factory.mktemp("logs")

    def start(extra_opts=(), host_keys=None, authorized_keys=None, config=None, env=None):
        if host_keys is None:
            host_keys = list(keys.host.values())
        authorized_keys = authorized_keys or keys.authorized_keys
        config_file = None
        if config is not None:
            config_file = str(logdir / f"config-{len(servers)}-{time.monotonic_ns()}")
            with open(config_file, "w") as f:
                f.write(config)
        for attempt in range(3):
            port = free_port()
            log_path = str(logdir / f"{SERVER_KIND}-{port}.log")
            argv = server_argv(SERVER_KIND, port, host_keys, authorized_keys, extra_opts,
                               config_file)
            server = Server(SERVER_KIND, port, log_path, argv, env)
            try:
                server.start()
            except RuntimeError:
                # Another process may have taken the free port meanwhile.
                if attempt < 2 and re.search(r"in use|bind", server.log(), re.I):
                    continue
                raise
            servers.append(server)
            return server
        raise AssertionError("unreachable")

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def server(start_server):
    """A server with all three host keys and default options, one per module."""
    srv = start_server()
    yield srv
    srv.stop()


# ------------------------------------------------------------------ clients

def ssh_argv(server, *cmd, key=None, opts=(), verbose=False, user=None):
    argv = [SSH, "-p", str(server.port), "-F", "/dev/null",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
            "-o", f"ConnectTimeout={CONNECT_TIMEOUT}"]
    argv += ["-v"] if verbose else ["-o", "LogLevel=ERROR"]
    if key is None:
        key = _default_keys.user["ed25519"]
    keys_ = key if isinstance(key, (list, tuple)) else [key]
    for k in keys_:
        if k:
            argv += ["-i", k]
    for opt in opts:
        argv += ["-o", opt]
    argv += ["-l", user or USER, "127.0.0.1"]
    return argv + list(cmd)


def ssh(server, *cmd, key=None, opts=(), input=None, timeout=60, verbose=False,
        user=None, text=False):
    """Run /usr/bin/ssh against server; returns CompletedProcess (bytes
    unless text=True). key defaults to the ed25519 user key; may be a list."""
    argv = ssh_argv(server, *cmd, key=key, opts=opts, verbose=verbose, user=user)
    stdin = subprocess.DEVNULL if input is None else None
    return subprocess.run(argv, input=input, stdin=stdin, capture_output=True,
                          timeout=timeout, text=text)


_default_keys = None


@pytest.fixture(scope="session", autouse=True)
def _register_default_keys(keys):
    global _default_keys
    _default_keys = keys


def negotiated(ssh_stderr):
    """Algorithms OpenSSH's ssh -v reports it negotiated."""
    if isinstance(ssh_stderr, bytes):
        ssh_stderr = ssh_stderr.decode("utf-8", "replace")
    found = {}
    m = re.search(r"kex: algorithm: (\S+)", ssh_stderr)
    found["kex"] = m and m.group(1)
    m = re.search(r"kex: host key algorithm: (\S+)", ssh_stderr)
    found["hostkey"] = m and m.group(1)
    for direction in ("client->server", "server->client"):
        m = re.search(re.escape(direction) + r" cipher: (\S+) MAC: (\S+) compression: (\S+)",
                      ssh_stderr)
        if m:
            found[direction] = {"cipher": m.group(1), "mac": m.group(2),
                                "compression": m.group(3)}
        else:
            found[direction] = None
    return found


def remote_stderr(server, data):
    """The session's stderr as the client saw it. sshd run with -e and
    LogLevel DEBUG1 leaks its own debug lines into the session's stderr;
    drop those when cross-checking against sshd. wombatd must not leak."""
    if server.kind != "sshd":
        return data
    text = isinstance(data, str)
    lines = (data if text else data.decode("utf-8", "replace")).splitlines(True)
    kept = "".join(l for l in lines if not l.startswith("debug1: "))
    return kept if text else kept.encode()


def assert_good_login(server, keys_=None):
    """A well-behaved client still gets served and the daemon is alive."""
    assert server.alive(), f"daemon died:\n{server.log()}"
    r = ssh(server, "echo", "hi")
    assert r.returncode == 0 and r.stdout == b"hi\n", \
        f"good client failed: rc={r.returncode} err={r.stderr!r}\n{server.log()[-4000:]}"
    assert server.alive()


def have(prog):
    return shutil.which(prog) is not None


def unlock_for_keys(name):
    """useradd leaves the password field "!" (locked), and a locked
    account is refused for every method, as by OpenSSH without PAM; "*"
    means no password but keys welcome."""
    subprocess.run(["usermod", "-p", "*", name], check=True)


@contextmanager
def throwaway_user(name, why):
    """A fresh account `name` (home, /bin/sh) for the duration of the block,
    removed afterwards with its home; skips the test (saying `why` needs
    it) when not root. Leftovers of an interrupted run are removed first."""
    if not IS_ROOT:
        pytest.skip(f"{why} needs root to create a throw-away user")
    with _user_name_lock(name):
        subprocess.run(["userdel", "-r", "-f", name], capture_output=True)
        subprocess.run(["useradd", "-m", "-s", "/bin/sh", name], check=True)
        unlock_for_keys(name)
        try:
            yield name
        finally:
            subprocess.run(["userdel", "-r", "-f", name], capture_output=True)


@contextmanager
def _user_name_lock(name, timeout=900):
    """Test runs of other checkouts on this machine use the same account
    names: without this, one run's clean-up deleted the account another was
    logging in as (dozens of failures in a parallel run). They take turns."""
    with open(f"/tmp/wombat-test-user-{name}.lock", "w") as lock:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"throw-away user {name} held by another test run "
                                         f"for {timeout} s")
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def install_key(user, pubkey):
    """~/.ssh/authorized_keys for user with the modes sshd(8) expects."""
    import pwd
    pw = pwd.getpwnam(user)
    sshdir = os.path.join(pw.pw_dir, ".ssh")
    os.makedirs(sshdir, exist_ok=True)
    ak = os.path.join(sshdir, "authorized_keys")
    shutil.copy(pubkey, ak)
    for path, mode in ((sshdir, 0o700), (ak, 0o600)):
        os.chown(path, pw.pw_uid, pw.pw_gid)
        os.chmod(path, mode)


def password_login(server, user, password):
    """True if paramiko gets in with this password."""
    import paramiko
    t = paramiko.Transport(("127.0.0.1", server.port))
    try:
        t.start_client(timeout=10)
        t.auth_password(user, password)
        return t.is_authenticated()
    except paramiko.AuthenticationException:
        return False
    finally:
        t.close()


def paramiko_run(t, command, open_timeout=None):
    """Run command on paramiko Transport t: (exit status, stdout). Returns
    once the server has closed the channel and paramiko's reader thread has
    answered that CLOSE: the thread sends its answer itself, and one due
    while the caller's own rekey is in flight would block it until the
    rekey ends, which it then never reads. A global request's reply comes
    after the CLOSE, so once it is in the answer has been sent."""
    chan = t.open_session(timeout=open_timeout)
    chan.exec_command(command)
    out = b""
    while True:
        data = chan.recv(65536)
        if not data:
            break
        out += data
    status = chan.recv_exit_status()
    deadline = time.monotonic() + 10
    while not chan.closed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert chan.closed, "the server did not close the channel after the exit status"
    t.global_request("keepalive@openssh.com", wait=True)
    chan.close()
    return status, out
