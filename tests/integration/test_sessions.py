"""Sessions as a user sees them: interactive pty shells, sftp/scp, exit
signals, forced commands, authorized_keys options, environment, Banner,
motd, and the listener's SIGHUP/SIGTERM — with real clients against a real
wombatd."""
import asyncio
import fcntl
import hashlib
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time

import pytest

from conftest import (SERVER_KIND, USER, Server, free_port, server_argv,
                      ssh, ssh_argv)

SFTP_SERVER = "/usr/lib/openssh/sftp-server"


# ----------------------------------------------------------------- helpers

def client_opts(server, key):
    """-P/-i style options shared by sftp and scp."""
    return ["-P", str(server.port), "-F", "/dev/null", "-i", key,
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR"]


def ssh_info(server, *cmd, key=None):
    """ssh at LogLevel INFO, the level at which it prints a server's Banner."""
    argv = ["LogLevel=INFO" if a == "LogLevel=ERROR" else a
            for a in ssh_argv(server, *cmd, key=key)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def set_winsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class PtyClient:
    """/usr/bin/ssh on a local pty, as a person at a terminal runs it."""

    def __init__(self, server, *cmd, key, opts=(), term="xterm-256color", rows=24, cols=80):
        self.master, slave = os.openpty()
        set_winsize(slave, rows, cols)
        env = dict(os.environ, TERM=term)
        argv = ssh_argv(server, *cmd, key=key, opts=["RequestTTY=force"] + list(opts))
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                                     env=env, start_new_session=True)
        os.close(slave)
        self.out = b""

    def send(self, data):
        os.write(self.master, data.encode() if isinstance(data, str) else data)

    def expect(self, pattern, timeout=10.0):
        """Wait until the output so far matches; returns the match (and keeps
        only what follows it for the next expect)."""
        rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.out)
            if m:
                self.out = self.out[m.end():]
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {pattern!r} within {timeout}s; got {self.out[-2000:]!r}")
            r, _, _ = select.select([self.master], [], [], min(left, 0.2))
            if r:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:       # EIO: ssh has gone
                    chunk = b""
                if not chunk and self.proc.poll() is not None:
                    raise AssertionError(f"ssh exited ({self.proc.returncode}) before "
                                         f"{pattern!r}; got {self.out[-2000:]!r}")
                self.out += chunk

    def resize(self, rows, cols):
        set_winsize(self.master, rows, cols)
        self.proc.send_signal(signal.SIGWINCH)

    def wait(self, timeout=10):
        """ssh's exit status (drains the pty so ssh never blocks on output)."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            r, _, _ = select.select([self.master], [], [], 0.1)
            if r:
                try:
                    self.out += os.read(self.master, 65536)
                except OSError:
                    pass
        return self.proc.wait(timeout=1)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


@pytest.fixture
def pty_client(keys):
    clients = []

    def make(server, *cmd, **kw):
        c = PtyClient(server, *cmd, key=kw.pop("key", keys.user["ed25519"]), **kw)
        clients.append(c)
        return c
    yield make
    for c in clients:
        c.close()


def write_authorized_keys(path, line_opts, pubkey_path):
    with open(pubkey_path) as f:
        pub = f.read().strip()
    with open(path, "w") as f:
        f.write(f"{line_opts} {pub}\n" if line_opts else pub + "\n")
    os.chmod(path, 0o600)
    return str(path)


# ------------------------------------------------------- interactive pty

PROMPT = "wb-prompt> "


def start_shell(c):
    """Wait for the login shell's prompt, then switch to a known one."""
    c.expect(r"[#$] ")
    # split in two so that the echo of this line does not look like the prompt
    c.send(f"PS1='{PROMPT[:3]}''{PROMPT[3:]}'; unset PROMPT_COMMAND; bind 'set enable-bracketed-paste off' 2>/dev/null\r")
    c.expect(re.escape(PROMPT))


def test_pty_shell_interactive(server, pty_client):
    c = pty_client(server)
    start_shell(c)
    c.send("tty\r")
    c.expect(r"/dev/pts/\d+\r\n")
    c.send("echo \"TERM=[$TERM] SSH_TTY=[$SSH_TTY]\"\r")
    m = c.expect(r"TERM=\[([^$\]]+)\] SSH_TTY=\[([^$\]]+)\]\r\n")
    assert m.group(1) == b"xterm-256color"
    assert re.fullmatch(rb"/dev/pts/\d+", m.group(2))
    c.send("stty size\r")
    c.expect(r"\r\n24 80\r\n")
    c.resize(40, 132)
    # ssh sends window-change when its SIGWINCH is handled, so the new size
    # reaches the remote tty some time later: ask again until it has (CI's
    # ASan run once saw the old size 0.3 s after the resize)
    deadline = time.monotonic() + 10
    while True:
        c.send("stty size\r")
        size = c.expect(r"\r\n(\d+ \d+)\r\n").group(1)
        if size == b"40 132" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert size == b"40 132"
    c.send("exit 5\r")
    assert c.wait() == 5


def test_pty_ctrl_c_interrupts_foreground(server, pty_client):
    c = pty_client(server)
    start_shell(c)
    c.send("sleep 100\r")
    time.sleep(0.5)
    t0 = time.monotonic()
    c.send(b"\x03")
    c.expect(re.escape(PROMPT), timeout=5)
    assert time.monotonic() - t0 < 5
    c.send("echo status=[$?]\r")
    c.expect(r"status=\[130\]")
    c.send("exit\r")
    assert c.wait() == 0


def test_pty_exec_stderr_goes_to_tty(server, pty_client):
    """ssh -t host cmd: one stream (stderr on the tty), and ONLCR applies."""
    c = pty_client(server, "echo out; echo err >&2; tty; exit 3")
    c.expect(r"out\r\nerr\r\n/dev/pts/\d+\r\n")
    assert c.wait() == 3


def test_pty_terminal_modes_from_client(server, pty_client):
    """The client's modes (here: its local erase char ^H and no echoctl)
    arrive on the remote tty (RFC 4254 s8)."""
    master, slave = os.openpty()
    try:
        attrs = termios.tcgetattr(slave)
        attrs[6][termios.VERASE] = b"\x08"
        attrs[3] &= ~termios.ECHOCTL
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        argv = ssh_argv(server, "stty -a", opts=["RequestTTY=force"])
        p = subprocess.run(argv, stdin=slave, capture_output=True, timeout=30)
    finally:
        os.close(slave)
        os.close(master)
    out = p.stdout.decode()
    assert p.returncode == 0, p.stderr
    assert "erase = ^H" in out
    assert "-echoctl" in out


def test_pty_refused_by_permittty(start_server, pty_client):
    srv = start_server(["PermitTTY=no"])
    try:
        # ssh -tt treats a refused pty as fatal (OpenSSH client behaviour)
        c = pty_client(srv, "tty; exit 0")
        c.expect("PTY allocation request failed")
        assert c.wait() == 255
        assert b"/dev/pts" not in c.out
    finally:
        srv.stop()


def test_print_motd(start_server, pty_client):
    """PrintMotd (default yes) shows /etc/motd to a pty login shell only;
    PrintMotd no does not."""
    motd = open("/etc/motd").read() if os.path.exists("/etc/motd") else ""
    lines = [l for l in motd.splitlines() if l.strip()]
    if not lines:
        pytest.skip("/etc/motd is missing or empty on this system")
    if os.path.exists(os.path.expanduser("~/.hushlogin")):
        pytest.skip("~/.hushlogin exists for the test user")
    marker = lines[-1].strip()
    for setting, shown in (("yes", True), ("no", False)):
        srv = start_server([f"PrintMotd={setting}"])
        try:
            c = pty_client(srv)
            m = c.expect(r"(?s)^(.*?)[#$] ")
            before = m.group(1).decode("utf-8", "replace")
            c.send("exit\r")
            c.wait()
        finally:
            srv.stop()
        assert (marker in before) == shown, (setting, before)
    # a command with a pty gets no motd
    srv = start_server()
    try:
        r = ssh(srv, "echo done", opts=["RequestTTY=force"])
        assert marker.encode() not in r.stdout
    finally:
        srv.stop()


# ----------------------------------------------------------- sftp / scp

@pytest.fixture(scope="module")
def file32(tmp_path_factory):
    path = tmp_path_factory.mktemp("f32") / "data.bin"
    with open(path, "wb") as f:
        for _ in range(32):
            f.write(os.urandom(1 << 20))
    os.chmod(path, 0o640)
    return str(path)


@pytest.mark.parametrize("configured", [True, False], ids=["subsystem-line", "builtin-default"])
def test_sftp_put_get_32mib(start_server, keys, file32, tmp_path, configured):
    if not os.access(SFTP_SERVER, os.X_OK):
        pytest.skip(f"{SFTP_SERVER} is not installed (openssh-sftp-server)")
    opts = [f"Subsystem=sftp {SFTP_SERVER}"] if configured else []
    srv = start_server(opts)
    try:
        up = tmp_path / "up.bin"
        down = tmp_path / "down.bin"
        batch = tmp_path / "batch"
        batch.write_text(f"put {file32} {up}\nget {up} {down}\n")
        r = subprocess.run(["sftp", "-b", str(batch)] + client_opts(srv, keys.user["ed25519"])
                           + ["127.0.0.1"], capture_output=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr
        assert sha256(up) == sha256(file32) == sha256(down)
    finally:
        srv.stop()


@pytest.mark.parametrize("legacy", [False, True], ids=["scp-sftp", "scp-O"])
def test_scp_both_directions_keeps_mode(server, keys, file32, tmp_path, legacy):
    if not legacy and not os.access(SFTP_SERVER, os.X_OK):
        pytest.skip(f"{SFTP_SERVER} is not installed (openssh-sftp-server)")
    base = ["scp", "-q", "-p"] + (["-O"] if legacy else []) + \
        client_opts(server, keys.user["ed25519"])
    remote = tmp_path / "remote.bin"
    back = tmp_path / "back.bin"
    r = subprocess.run(base + [file32, f"127.0.0.1:{remote}"], capture_output=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(base + [f"127.0.0.1:{remote}", str(back)], capture_output=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert sha256(remote) == sha256(file32) == sha256(back)
    assert os.stat(remote).st_mode & 0o7777 == 0o640
    assert os.stat(back).st_mode & 0o7777 == 0o640
    assert int(os.stat(back).st_mtime) == int(os.stat(file32).st_mtime)


# ------------------------------------------------------------ exit-signal

def test_exit_signal_openssh(server):
    r = ssh(server, "ulimit -c 0; kill -SEGV $$", verbose=True)
    assert r.returncode == 255
    assert b"rtype exit-signal" in r.stderr
    assert b"Exit status -1" in r.stderr


def test_exit_signal_asyncssh(server, keys):
    asyncssh = pytest.importorskip("asyncssh")

    async def run():
        async with asyncssh.connect("127.0.0.1", port=server.port, username=USER,
                                    client_keys=[keys.user["ed25519"]],
                                    known_hosts=None) as conn:
            return await conn.run("ulimit -c 0; kill -SEGV $$", check=False)
    result = asyncio.run(asyncio.wait_for(run(), 30))
    assert result.exit_signal is not None
    name, core, _msg, _lang = result.exit_signal
    assert name == "SEGV"
    assert core is False


# ---------------------------------------------------- forced commands

def test_force_command_exec_shell_subsystem(start_server):
    srv = start_server(['ForceCommand=echo "forced:[$SSH_ORIGINAL_COMMAND]"'])
    try:
        r = ssh(srv, "echo hi there")
        assert r.stdout == b"forced:[echo hi there]\n"
        r = ssh(srv, input=b"")                          # shell
        assert r.stdout == b"forced:[]\n"
        r = ssh(srv, "sftp", opts=["SessionType=subsystem"])   # ssh -s sftp
        assert r.stdout == b"forced:[sftp]\n"
    finally:
        srv.stop()


def test_authorized_keys_command_forced(start_server, keys, tmp_path):
    ak = write_authorized_keys(tmp_path / "ak", 'command="echo key-forced:$SSH_ORIGINAL_COMMAND"',
                               keys.user["ed25519"] + ".pub")
    srv = start_server(authorized_keys=ak)
    try:
        r = ssh(srv, "id -u")
        assert r.returncode == 0, r.stderr
        assert r.stdout == b"key-forced:id -u\n"
    finally:
        srv.stop()


def test_authorized_keys_no_pty(start_server, keys, tmp_path):
    for opts in ("no-pty", "restrict"):
        ak = write_authorized_keys(tmp_path / f"ak-{opts}", opts, keys.user["ed25519"] + ".pub")
        srv = start_server(authorized_keys=ak)
        try:
            r = ssh(srv, "tty", opts=["RequestTTY=force"], text=True)
            assert "PTY allocation request failed" in r.stderr, (opts, r.stderr)
            assert r.returncode == 255 and "/dev/pts" not in r.stdout
            # without asking for a pty the key still works
            r = ssh(srv, "echo in", text=True)
            assert r.returncode == 0 and r.stdout == "in\n"
        finally:
            srv.stop()
    # restrict,pty turns the pty back on
    ak = write_authorized_keys(tmp_path / "ak-rp", "restrict,pty", keys.user["ed25519"] + ".pub")
    srv = start_server(authorized_keys=ak)
    try:
        r = ssh(srv, "tty", opts=["RequestTTY=force"], text=True)
        assert re.match(r"/dev/pts/\d+", r.stdout), r.stderr
    finally:
        srv.stop()


@pytest.mark.parametrize("permit", ["no", "yes", "WB_*"])
def test_authorized_keys_environment(start_server, keys, tmp_path, permit):
    ak = write_authorized_keys(tmp_path / "ak", 'environment="WB_KEYVAR=from-key",'
                               'environment="OTHER_VAR=other"', keys.user["ed25519"] + ".pub")
    srv = start_server([f"PermitUserEnvironment={permit}"], authorized_keys=ak)
    try:
        r = ssh(srv, 'echo "[$WB_KEYVAR][$OTHER_VAR]"', text=True)
        assert r.returncode == 0, r.stderr
        expect = {"no": "[][]", "yes": "[from-key][other]", "WB_*": "[from-key][]"}[permit]
        assert r.stdout.strip() == expect
    finally:
        srv.stop()


def test_authorized_keys_from_and_expiry(start_server, keys, tmp_path):
    pub = keys.user["ed25519"] + ".pub"
    cases = [('from="10.9.8.7"', False), ('from="127.0.0.*"', True),
             ('expiry-time="20000101"', False), ('expiry-time="29990101"', True)]
    for opts, ok in cases:
        ak = write_authorized_keys(tmp_path / "ak", opts, pub)
        srv = start_server(authorized_keys=ak)
        try:
            r = ssh(srv, "echo in")
            assert (r.returncode == 0 and r.stdout == b"in\n") == ok, (opts, r.stderr)
            if not ok:
                assert b"Permission denied" in r.stderr
        finally:
            srv.stop()


# ------------------------------------------------------------ environment

def test_setenv_and_acceptenv(start_server):
    srv = start_server(["SetEnv=WB_SET=fromconfig", "AcceptEnv=LC_*"])
    try:
        env = dict(os.environ, LC_FOO="sent-by-client", WB_OTHER="not-accepted")
        argv = ssh_argv(srv, 'echo "[$WB_SET][$LC_FOO][$WB_OTHER][$MAIL]"',
                        opts=["SendEnv=LC_FOO", "SendEnv=WB_OTHER"])
        r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == f"[fromconfig][sent-by-client][][/var/mail/{USER}]"
    finally:
        srv.stop()


def test_banner_shown_before_auth(start_server, keys, tmp_path):
    banner = tmp_path / "banner"
    banner.write_text("Authorised use only -- wombat test banner\n")
    srv = start_server([f"Banner={banner}"])
    try:
        r = ssh_info(srv, "true")
        assert r.returncode == 0, r.stderr
        assert "wombat test banner" in r.stderr
        # a client that fails auth sees it too (it comes before the verdict)
        r = ssh_info(srv, "true", key=keys.wrong[0])
        assert r.returncode == 255
        assert "wombat test banner" in r.stderr
    finally:
        srv.stop()


# -------------------------------------------------- listener signals

def start_with_config_file(keys, tmp_path, text):
    cfg = tmp_path / "sshd_config"
    cfg.write_text(text)
    port = free_port()
    argv = server_argv(SERVER_KIND, port, list(keys.host.values()), keys.authorized_keys, [])
    if SERVER_KIND == "sshd":
        argv[argv.index("/dev/null")] = str(cfg)
    else:
        argv += ["-f", str(cfg)]
    return Server(SERVER_KIND, port, str(tmp_path / "server.log"), argv).start(), cfg


def open_session(server):
    """A long-running session whose liveness we can probe: a shell reading
    commands from our pipe."""
    p = subprocess.Popen(ssh_argv(server, "sh"), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdin.write(b"echo ready\n")
    p.stdin.flush()
    assert p.stdout.readline() == b"ready\n"
    return p


def session_still_works(p):
    p.stdin.write(b"echo still-here $((6*7))\n")
    p.stdin.flush()
    assert p.stdout.readline() == b"still-here 42\n"
    p.stdin.write(b"exit 7\n")
    p.stdin.flush()
    assert p.wait(timeout=10) == 7


def test_sighup_rereads_config(keys, tmp_path):
    srv, cfg = start_with_config_file(keys, tmp_path, "PrintMotd no\n")
    banner = tmp_path / "banner"
    banner.write_text("banner-after-reload\n")
    try:
        before = open_session(srv)
        r = ssh_info(srv, "true")
        assert "banner-after-reload" not in r.stderr
        cfg.write_text(f"PrintMotd no\nBanner {banner}\n")
        mark = srv.mark()
        os.kill(srv.pid, signal.SIGHUP)
        assert srv.wait_log(r"SIGHUP", since=mark), srv.log()
        assert srv.alive()
        r = ssh_info(srv, "true")
        assert r.returncode == 0
        assert "banner-after-reload" in r.stderr
        session_still_works(before)
        # a broken file keeps the last good configuration
        cfg.write_text("NoSuchOption yes\n")
        mark = srv.mark()
        os.kill(srv.pid, signal.SIGHUP)
        assert srv.wait_log(r"NoSuchOption", since=mark), srv.log(mark)
        r = ssh_info(srv, "true")
        assert r.returncode == 0 and "banner-after-reload" in r.stderr
        assert srv.alive()
    finally:
        srv.stop()


def test_sigterm_stops_listener_not_sessions(keys, tmp_path):
    srv, _ = start_with_config_file(keys, tmp_path, "")
    try:
        s = open_session(srv)
        os.kill(srv.pid, signal.SIGTERM)
        srv.proc.wait(timeout=5)
        assert ssh(srv, "true", opts=["ConnectTimeout=3"]).returncode == 255
        session_still_works(s)
    finally:
        # the session's connection process is in the daemon's group
        srv.stop()
