"""Every option allowed inside Match, decided by its Match value and shown
by logging in with real clients (issue: Match applied before authentication).

The list of options comes from config.c's keyword table through
tests/tools/match_keywords: test_every_match_keyword_has_a_case fails for a
Match-able keyword without a case in CASES below (and for a case whose
keyword is no longer Match-able).

Each case runs two servers with the same Match block: one whose criterion
matches this connection (Address 127.0.0.1) and one whose criterion does
not (Address 10.0.0.0/8). The case's check shows the user-visible
difference on both, and `wombatd -T -C` for the same command line and file
must show the Match value where it applied and the plain value where not.

What a case can and cannot show today is said in its `note`:
- keywords wombat accepts but does not implement (IGNORED in config.c) are
  not printed by -T; their harmless value loads and logins work, and a
  value wombat cannot honour either fails `wombatd -t` naming file, line
  and option (KW_REJECT: ignoring it would open something) or is logged as
  ignored (ignoring it closes something, e.g. HostbasedAuthentication yes).
"""
import ctypes
import ctypes.util
import os
import pwd
import re
import subprocess
import signal
import socket
import stat
import time
import uuid

import paramiko
import pytest

from conftest import (IS_ROOT, REPO, SERVER_KIND, USER, WOMBATD, password_login, ssh,
                      ssh_argv, throwaway_user)
from test_keepalive import BlackHoleRelay, relay_ssh
from test_forwarding import (BlackHole, EchoServer, Tunnel, echo_roundtrip, free_port,
                             remote_forward, ssh_w, wait_port)
from test_killmode import (cg_root, classify, cleanup, marked, read_until,  # noqa: F401
                           run_and_drop, survivors_after, wait_for, EXEC_ALL, EXEC_SCRIPT,
                           PROCESS_EXEC)

pytestmark = [
    pytest.mark.skipif(SERVER_KIND != "wombatd",
                       reason="wombat's keyword table, -T and log lines"),
    pytest.mark.skipif(not IS_ROOT, reason="throw-away users need root"),
]

APPLIES = "Address 127.0.0.1"
ELSEWHERE = "Address 10.0.0.0/8"
# Throw-away users (/bin/sh, the test key in ~/.ssh/authorized_keys). They,
# not root, run the sessions: root's shell rc files are the machine's, and
# can be slow; root logs in only for PermitRootLogin.
MAIN = "wbtuser"
SECOND = "wbtuser2"
PASSWORD = "Wbt-match-pw-3"


# ------------------------------------------------------------------ helpers

def logged_in(r, expect=b"in\n"):
    return r.returncode == 0 and r.stdout == expect


def denied(r):
    return r.returncode == 255 and b"Permission denied" in r.stderr


def show(r, srv=None):
    text = f"rc={r.returncode} out={r.stdout[-500:]!r} err={r.stderr[-1500:]!r}"
    return text + (f"\nserver log:\n{srv.log()[-3000:]}" if srv else "")


def key_transport(srv, keys, user=MAIN):
    t = paramiko.Transport(("127.0.0.1", srv.port))
    t.start_client(timeout=10)
    t.auth_publickey(user, paramiko.Ed25519Key.from_private_key_file(keys.user["ed25519"]))
    assert t.is_authenticated()
    return t


def popen_ssh(srv, *cmd, **kw):
    return subprocess.Popen(ssh_argv(srv, *cmd, **kw), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def still_running_after(proc, seconds):
    """True if proc has not ended within `seconds` (it is killed then)."""
    try:
        proc.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        return True
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def ended_within(proc, seconds):
    try:
        proc.wait(timeout=seconds)
        return True
    except subprocess.TimeoutExpired:
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


# --------------------------------------------------------------- the cases

class Ctx:
    """What a check needs: the server, whether its Match applies to our
    connections, key paths, a scratch directory."""

    def __init__(self, srv, applied, keys, tmp_path):
        self.srv = srv
        self.applied = applied
        self.keys = keys
        self.tmp = tmp_path


class Case:
    """lines: the Match block's body. check(ctx) asserts what a client sees
    with ctx.applied True (the Match applies) and False (it does not).
    shown: the line -T prints when the Match applies (None: an ignored
    keyword, which -T never prints). user: who logs in (and -C user=).
    opts / head: -o options and global file lines before the Match, to make
    the plain value differ from the Match value. bad: for ignored keywords,
    (value, fails) — a value wombat cannot honour, and whether -t must fail
    (True) or load it logging "ignored" (False)."""

    def __init__(self, lines, check, shown=None, user=MAIN, opts=(), head=(), bad=None,
                 setup=None, note=""):
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        self.check = check
        self.shown = shown
        self.user = user
        self.opts = list(opts)
        self.head = list(head)
        self.bad = bad
        self.setup = setup
        self.note = note

    def config(self, criterion, lines=None):
        text = "".join(f"{line}\n" for line in self.head)
        if criterion is not None:
            body = self.lines if lines is None else lines
            text += f"Match {criterion}\n" + "".join(f"    {line}\n" for line in body)
        return text


def refused_when_applied(user=MAIN, **kw):
    """The plain login (key ed25519 unless given) is refused where the Match
    applies and goes through where it does not."""
    def check(ctx):
        r = ssh(ctx.srv, "echo in", user=user, timeout=30, **kw)
        if ctx.applied:
            assert denied(r), "Match applies, login must be refused: " + show(r, ctx.srv)
        else:
            assert logged_in(r), "Match does not apply, login must work: " + show(r, ctx.srv)
    return check


def check_password(ctx):
    got_in = password_login(ctx.srv, MAIN, PASSWORD)
    assert got_in == (not ctx.applied), ctx.srv.log()[-2000:]
    assert not password_login(ctx.srv, MAIN, "wrong-password")


def check_empty_password(ctx):
    assert password_login(ctx.srv, MAIN, "") == ctx.applied, ctx.srv.log()[-2000:]
    # a wrong non-empty password is refused either way
    assert not password_login(ctx.srv, MAIN, "not-empty")


def check_kbd_interactive(ctx):
    """wombat does not implement keyboard-interactive: KbdInteractiveAuthentication
    yes in Match is accepted (and shown by -T) but the method is never
    offered. A refused wrong key shows the methods the server offers."""
    r = ssh(ctx.srv, "true", key=ctx.keys.wrong[0], verbose=True, timeout=30, user=MAIN)
    assert denied(r), show(r)
    offered = re.findall(rb"Authentications that can continue: (\S+)", r.stderr)
    assert offered, show(r)
    for methods in offered:
        assert b"keyboard-interactive" not in methods.split(b","), methods
        assert b"publickey" in methods.split(b","), methods
    assert logged_in(ssh(ctx.srv, "echo in", timeout=30, user=MAIN))


def check_max_auth_tries(ctx):
    # two wrong keys first, then the right one, in that order (IdentitiesOnly)
    keys3 = [ctx.keys.wrong[0], ctx.keys.wrong[1], ctx.keys.user["ed25519"]]
    r = ssh(ctx.srv, "echo in", key=keys3, timeout=30, user=MAIN)
    if ctx.applied:
        assert r.returncode == 255 and not r.stdout, show(r, ctx.srv)
        assert re.search(rb"Too many authentication failures|Permission denied", r.stderr), show(r)
    else:
        assert logged_in(r), show(r, ctx.srv)


def check_allow_users(ctx):
    """AllowUsers/AllowGroups SECOND: SECOND gets in everywhere, MAIN only
    where the Match does not apply."""
    assert logged_in(ssh(ctx.srv, "echo in", user=SECOND, timeout=30))
    refused_when_applied(MAIN)(ctx)


def check_allow_groups(ctx):
    check_allow_users(ctx)


def check_deny_users(ctx):
    """DenyUsers/DenyGroups SECOND: MAIN gets in everywhere, SECOND only
    where the Match does not apply."""
    assert logged_in(ssh(ctx.srv, "echo in", user=MAIN, timeout=30))
    refused_when_applied(SECOND)(ctx)


def check_deny_groups(ctx):
    check_deny_users(ctx)


def check_pubkey_algs(ctx):
    refused_when_applied(key=ctx.keys.user["ed25519"])(ctx)
    # the algorithm the Match allows works either way
    assert logged_in(ssh(ctx.srv, "echo in", key=ctx.keys.user["rsa"], timeout=30,
                         user=MAIN))


BANNER_TEXT = "wbt banner from a Match block"


def banner_file(tmp_path):
    """(Match lines, -T line) for a banner file in tmp_path."""
    path = tmp_path / "banner"
    path.write_text(BANNER_TEXT + "\n")
    os.chmod(path, 0o644)
    return [f"Banner {path}"], f"banner {path}"


def check_banner(ctx):
    r = ssh(ctx.srv, "echo in", verbose=True, timeout=30, user=MAIN)
    assert logged_in(r), show(r)
    assert (BANNER_TEXT.encode() in r.stderr) == ctx.applied, show(r)


def check_user_environment(ctx):
    r = ssh(ctx.srv, "env", user=MAIN, timeout=30)
    assert r.returncode == 0, show(r, ctx.srv)
    assert (b"WBT_FROM_FILE=user-env\n" in r.stdout) == ctx.applied, r.stdout


def check_rekey(ctx):
    mark = ctx.srv.mark()
    r = ssh(ctx.srv, "head -c 1048576 /dev/zero", verbose=True, timeout=60, user=MAIN)
    assert r.returncode == 0 and len(r.stdout) == 1 << 20, show(r)
    kexinits = len(re.findall(rb"SSH2_MSG_KEXINIT received", r.stderr))
    if ctx.applied:
        assert kexinits >= 2, f"no rekey after 1 MiB with RekeyLimit 64K: {kexinits}"
        assert ctx.srv.wait_log(r"starting rekey", mark, timeout=2)
    else:
        assert kexinits == 1, f"rekeyed {kexinits - 1} times with the default limit"
        assert not re.search(r"starting rekey", ctx.srv.log(mark))


def check_max_sessions(ctx):
    t = key_transport(ctx.srv, ctx.keys)
    try:
        first = t.open_session(timeout=10)
        if ctx.applied:
            try:
                t.open_session(timeout=10)
                raise AssertionError("a second session opened with MaxSessions 1")
            except paramiko.ChannelException:
                pass
        else:
            second = t.open_session(timeout=10)
            second.exec_command("echo second")
            assert second.makefile().read() == b"second\n"
        first.exec_command("echo first")
        assert first.makefile().read() == b"first\n"
    finally:
        t.close()


def check_channel_window(ctx):
    """The window the server announces for a session: 64K where the Match
    applies, the 2 MiB default where not."""
    t = key_transport(ctx.srv, ctx.keys)
    try:
        chan = t.open_session(timeout=10)
        assert chan.out_window_size == (65536 if ctx.applied else 2 * 1024 * 1024)
    finally:
        t.close()


def check_permit_tty(ctx):
    r = ssh(ctx.srv, "tty", opts=["RequestTTY=force"], timeout=30, user=MAIN)
    if ctx.applied:
        # ssh -tt gives up when the pty it insisted on is refused
        assert r.returncode == 255 and not r.stdout, show(r)
        assert b"PTY allocation request failed" in r.stderr, show(r)
    else:
        assert re.match(rb"/dev/pts/\d+", r.stdout), show(r)


def check_set_env(ctx):
    r = ssh(ctx.srv, "env", timeout=30, user=MAIN)
    assert r.returncode == 0, show(r)
    assert (b"WBT_SETENV=from-match\n" in r.stdout) == ctx.applied, r.stdout


def check_force_command(ctx):
    r = ssh(ctx.srv, "echo asked", timeout=30, user=MAIN)
    assert r.returncode == 0, show(r)
    assert r.stdout == (b"forced-by-match\n" if ctx.applied else b"asked\n")


def black_hole_after_login(ctx):
    """A session through a relay that then stops passing anything: the
    client can no longer answer keepalives. Returns (relay, proc, mark)."""
    relay = BlackHoleRelay(ctx.srv.port)
    mark = ctx.srv.mark()
    proc = relay_ssh(relay, ctx.srv, "echo up; sleep 30")
    assert proc.stdout.readline() == b"up\n"
    relay.black_hole()
    return relay, proc, mark


KEEPALIVE_END = r"ended: keepalive timeout: (\d+) probes unanswered \(ClientAliveInterval (\d+), ClientAliveCountMax (\d+)\)"


def check_client_alive(ctx, wait_applied, expect):
    relay, proc, mark = black_hole_after_login(ctx)
    try:
        if ctx.applied:
            m = ctx.srv.wait_log(KEEPALIVE_END, mark, timeout=wait_applied)
            assert m, ctx.srv.log(mark)
            assert m.groups() == expect, m.group(0)
        else:
            m = ctx.srv.wait_log(KEEPALIVE_END, mark, timeout=3)
            return m
    finally:
        proc.kill()
        proc.wait()
        relay.close()


def check_client_alive_interval(ctx):
    # global ClientAliveCountMax 1: the Match's interval 1 ends it in ~2 s;
    # without it (interval 0) nothing probes, and the dead path goes unnoticed
    m = check_client_alive(ctx, 8, ("1", "1", "1"))
    if not ctx.applied:
        assert m is None, m.group(0)


def check_client_alive_count(ctx):
    # global ClientAliveInterval 1: 1 unanswered probe is enough with the
    # Match, the default 3 without
    if ctx.applied:
        check_client_alive(ctx, 8, ("1", "1", "1"))
    else:
        relay, proc, mark = black_hole_after_login(ctx)
        try:
            m = ctx.srv.wait_log(KEEPALIVE_END, mark, timeout=10)
            assert m and m.groups() == ("3", "1", "3"), ctx.srv.log(mark)
        finally:
            proc.kill()
            proc.wait()
            relay.close()


def check_channel_timeout(ctx):
    mark = ctx.srv.mark()
    t0 = time.monotonic()
    r = ssh(ctx.srv, "sleep 3; echo done", timeout=30, user=MAIN)
    took = time.monotonic() - t0
    if ctx.applied:
        assert b"done" not in r.stdout, show(r)
        assert took < 3, f"idle session lived {took:.1f}s with ChannelTimeout session=1"
        assert ctx.srv.wait_log(r"no traffic for 1 s \(ChannelTimeout session=1\)", mark)
    else:
        assert r.returncode == 0 and r.stdout == b"done\n", show(r, ctx.srv)


def check_unused_connection(ctx):
    mark = ctx.srv.mark()
    proc = popen_ssh(ctx.srv, opts=["SessionType=none"], user=MAIN)
    if ctx.applied:
        assert ended_within(proc, 10), "a connection without channels outlived 10 s"
        assert ctx.srv.wait_log(r"ended: unused connection timeout: no open channel for 1 s",
                                mark)
    else:
        assert still_running_after(proc, 3), ctx.srv.log(mark)


def check_close_on_child_exit(ctx):
    proc = popen_ssh(ctx.srv, "echo x; sleep 30 &", user=MAIN)
    if ctx.applied:
        try:
            out, _ = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert proc.returncode == 0 and out == b"x\n"
    else:
        # OpenSSH's rule: the background job holds stdout open
        assert still_running_after(proc, 3)


def check_kill_mode(ctx):
    """SessionKillMode none (Match) vs process (default): after the client
    vanishes, 'none' leaves every job; 'process' hangs up the main process only."""
    token, end_line = run_and_drop(ctx.srv, EXEC_SCRIPT, EXEC_ALL, pty=False, user=MAIN)
    try:
        expected = EXEC_ALL if ctx.applied else PROCESS_EXEC
        assert survivors_after(token, expected, EXEC_ALL) == expected, end_line
    finally:
        cleanup(token)
    mode = "none" if ctx.applied else "process"
    assert f"SessionKillMode {mode}:" in end_line, end_line


# Every process of this session ignores SIGTERM (inherited SIG_IGN).
TERM_PROOF = ("trap '' TERM; export WMARK={t}; sleep 605 & "
              "printf '%s-%s\\n' READY {t}; sleep 606")
TERM_PROOF_JOBS = {"background", "foreground"}


def drop_client(srv, script, jobs):
    """Start the script's jobs, SIGKILL the client; return the token."""
    token = uuid.uuid4().hex[:12]
    proc = subprocess.Popen(ssh_argv(srv, script.format(t=token), user=MAIN), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        read_until(proc, rf"READY-{token}", 20)
        assert wait_for(lambda: classify(marked(token)) >= jobs, 10), classify(marked(token))
    except BaseException:
        cleanup(token)
        raise
    finally:
        proc.kill()
        proc.wait()
    return token


def check_kill_signal(ctx):
    """control-group, SessionKillTimeout 30 everywhere; SessionKillSignal HUP
    in Match. Jobs that ignore SIGTERM: HUP ends them at once; with the
    default TERM they are still there 2 s later (SIGKILL would come at 30 s)."""
    mark = ctx.srv.mark()
    token = drop_client(ctx.srv, TERM_PROOF, TERM_PROOF_JOBS)
    try:
        if ctx.applied:
            assert wait_for(lambda: not (classify(marked(token)) & TERM_PROOF_JOBS), 5), \
                classify(marked(token))
            m = ctx.srv.wait_log(r"session channel \d+ of \S+ ended: .*", mark, timeout=5)
            assert m and "signalled (SIGHUP)" in m.group(0), ctx.srv.log(mark)
        else:
            time.sleep(2)
            assert classify(marked(token)) & TERM_PROOF_JOBS == TERM_PROOF_JOBS
    finally:
        cleanup(token)
    if not ctx.applied:
        m = ctx.srv.wait_log(r"session channel \d+ of \S+ ended: .*", mark, timeout=5)
        assert m and "signalled (SIGTERM)" in m.group(0), ctx.srv.log(mark)


def check_kill_timeout(ctx):
    """control-group with SessionKillTimeout 30 everywhere, 1 in Match: jobs
    that ignore SIGTERM are SIGKILLed after 1 s, or still there after 3 s."""
    mark = ctx.srv.mark()
    token = drop_client(ctx.srv, TERM_PROOF, TERM_PROOF_JOBS)
    try:
        if ctx.applied:
            assert wait_for(lambda: not (classify(marked(token)) & TERM_PROOF_JOBS), 6), \
                classify(marked(token))
            m = ctx.srv.wait_log(r"session channel \d+ of \S+ ended: .*", mark, timeout=5)
            assert m and re.search(r"[1-9]\d* killed \(SIGKILL\)", m.group(0)), m.group(0)
        else:
            time.sleep(3)
            assert classify(marked(token)) & TERM_PROOF_JOBS == TERM_PROOF_JOBS
    finally:
        cleanup(token)


def check_log_level(ctx):
    """Global LogLevel INFO (-o), DEBUG1 in Match: the connection's debug
    lines after the first userauth request appear only where it applies."""
    mark = ctx.srv.mark()
    assert logged_in(ssh(ctx.srv, "echo in", timeout=30, user=MAIN))
    assert ctx.srv.wait_log(rf"Connection from .* ended: .*; user {MAIN}", mark)
    log = ctx.srv.log(mark)
    exec_line = r'channel \d+: request "exec" \(want reply\) -> success'   # debug()
    assert bool(re.search(exec_line, log)) == ctx.applied, log
    # before the first userauth request no Match applies yet: INFO
    assert "sent KEXINIT" not in log, log


# ---- forwarding: none exists yet; every request is refused whatever the value

# ---- forwarding (the targets and helpers are test_forwarding's)

def fwd_target():
    """An echo server on 127.0.0.1, for the case's duration."""
    return EchoServer()


def check_tcp_forwarding_off(ctx):
    """AllowTcpForwarding no: -W and -R refused where the Match applies,
    working where it does not."""
    echo = fwd_target()
    try:
        r = ssh_w(ctx.srv, f"127.0.0.1:{echo.port}", user=MAIN)
        if ctx.applied:
            assert r.returncode == 255 and b"administratively prohibited" in r.stderr, show(r)
        else:
            assert r.returncode == 0 and r.stdout == b"ping\n", show(r, ctx.srv)
        t, port = remote_forward(ctx.srv, echo.port, user=MAIN)
        with t:
            assert bool(port) == (not ctx.applied), ctx.srv.log()[-2000:]
    finally:
        echo.close()


def check_permit_open_none(ctx):
    echo = fwd_target()
    try:
        r = ssh_w(ctx.srv, f"127.0.0.1:{echo.port}", user=MAIN)
        assert (r.returncode == 0 and r.stdout == b"ping\n") == (not ctx.applied), show(r)
        if ctx.applied:
            assert ctx.srv.wait_log(r"refused for wbtuser: PermitOpen none")
    finally:
        echo.close()


def check_permit_listen_none(ctx):
    echo = fwd_target()
    try:
        t, port = remote_forward(ctx.srv, echo.port, user=MAIN)
        with t:
            assert bool(port) == (not ctx.applied), ctx.srv.log()[-2000:]
        if ctx.applied:
            assert ctx.srv.wait_log(r"refused for wbtuser: PermitListen none")
    finally:
        echo.close()


def check_gateway_ports(ctx):
    """GatewayPorts yes binds the wildcard: 127.0.0.2 reaches the forward;
    with the default (no) only 127.0.0.1 does."""
    echo = fwd_target()
    try:
        t, port = remote_forward(ctx.srv, echo.port, user=MAIN)
        with t:
            assert port, ctx.srv.log()[-2000:]
            try:
                reached = echo_roundtrip(port, host="127.0.0.2") == b"hello through the tunnel\n"
            except OSError:
                reached = False
            assert reached == ctx.applied
    finally:
        echo.close()


def check_disable_forwarding(ctx):
    echo = fwd_target()
    try:
        r = ssh_w(ctx.srv, f"127.0.0.1:{echo.port}", user=MAIN)
        assert (r.returncode == 0 and r.stdout == b"ping\n") == (not ctx.applied), show(r)
        if ctx.applied:
            assert ctx.srv.wait_log(r"refused for wbtuser: DisableForwarding yes")
    finally:
        echo.close()


def user_socket_dir():
    d = "/tmp/wbt-fwd-sockets"
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o1777)
    return d


def check_streamlocal_off(ctx):
    """-L to a Unix socket: refused where AllowStreamLocalForwarding no
    applies."""
    path = os.path.join(user_socket_dir(), f"t-{uuid.uuid4().hex[:8]}.sock")
    target = EchoServer(unix_path=path)
    os.chmod(path, 0o666)
    try:
        lport = free_port()
        with Tunnel(ctx.srv, ["-L", f"{lport}:{path}"], user=MAIN) as t:
            assert wait_port(lport), t.stderr()
            try:
                got = echo_roundtrip(lport) == b"hello through the tunnel\n"
            except OSError:
                got = False
            assert got == (not ctx.applied), ctx.srv.log()[-2000:]
    finally:
        target.close()
        os.unlink(path)


def remote_socket(ctx, echo, path):
    """-R onto a Unix socket as MAIN: the tunnel, and whether it listens."""
    t = Tunnel(ctx.srv, ["-R", f"{path}:127.0.0.1:{echo.port}"], user=MAIN)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and t.proc.poll() is None:
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(path)
                return t, True
        except OSError:
            time.sleep(0.2)
    return t, False


def check_bind_mask(ctx):
    echo = fwd_target()
    path = os.path.join(pwd.getpwnam(MAIN).pw_dir, "mask.sock")
    try:
        t, listening = remote_socket(ctx, echo, path)
        with t:
            assert listening, (t.stderr(), ctx.srv.log()[-2000:])
            mode = stat.S_IMODE(os.lstat(path).st_mode)
            assert mode == (0o660 if ctx.applied else 0o600), oct(mode)
    finally:
        echo.close()


def check_bind_unlink(ctx):
    echo = fwd_target()
    pw = pwd.getpwnam(MAIN)
    path = os.path.join(pw.pw_dir, "stale.sock")
    try:
        if os.path.exists(path):
            os.unlink(path)
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(path)
        stale.close()
        os.chown(path, pw.pw_uid, pw.pw_gid)
        t, listening = remote_socket(ctx, echo, path)
        with t:
            assert listening == ctx.applied, (t.stderr(), ctx.srv.log()[-2000:])
    finally:
        echo.close()
        if os.path.exists(path):
            os.unlink(path)


def check_connect_timeout(ctx):
    """ForwardConnectTimeout 1: a connect that is never answered fails in
    about a second; with the default (15 s) it is still pending at 4 s."""
    hole = BlackHole()
    try:
        argv = ssh_argv(ctx.srv, user=MAIN, opts=["ExitOnForwardFailure=yes"])
        argv[1:1] = ["-W", f"127.0.0.1:{hole.port}"]
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        if ctx.applied:
            assert ended_within(p, 12)
            assert ctx.srv.wait_log(r"failed: connect timed out after 1 s")
        else:
            assert still_running_after(p, 4)
    finally:
        hole.close()


def check_agent_forwarding_refused(ctx):
    """Agent forwarding is not implemented: never forwarded either way."""
    agent_sock = str(ctx.tmp / f"agent-{int(ctx.applied)}")
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", agent_sock],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: os.path.exists(agent_sock), 5)
        argv = ssh_argv(ctx.srv, "echo agent=${SSH_AUTH_SOCK:-none}", verbose=True,
                        user=MAIN)
        argv[1:1] = ["-A"]
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=30,
                           env=dict(os.environ, SSH_AUTH_SOCK=agent_sock))
        assert r.returncode == 0 and r.stdout == b"agent=none\n", \
            "agent forwarding is not implemented: " + show(r)
        assert b"Requesting authentication agent forwarding" in r.stderr, show(r)
    finally:
        agent.terminate()
        agent.wait(timeout=5)


# ---- ignored keywords

def check_login_works(ctx):
    """Accepted, no effect: the login goes through either way."""
    r = ssh(ctx.srv, "echo in", timeout=30, user=MAIN)
    assert logged_in(r), show(r, ctx.srv)


def ignored(harmless, bad, fails, note, check=check_login_works):
    return dict(lines=harmless, check=check, shown=None, bad=(bad, fails), note=note)


CASES = {
    # ---- authentication: the login is refused or goes through
    "PermitRootLogin": Case("PermitRootLogin no", refused_when_applied(USER),
                            shown="permitrootlogin no", user=USER,
                            note="root is the test user; the default prohibit-password "
                                 "lets its key in"),
    "PubkeyAuthentication": Case("PubkeyAuthentication no", refused_when_applied(),
                                 shown="pubkeyauthentication no"),
    "PasswordAuthentication": Case("PasswordAuthentication no", check_password,
                                   shown="passwordauthentication no",
                                   setup="password"),
    "PermitEmptyPasswords": Case("PermitEmptyPasswords yes", check_empty_password,
                                 shown="permitemptypasswords yes",
                                 setup="empty"),
    "KbdInteractiveAuthentication": Case(
        "KbdInteractiveAuthentication yes", check_kbd_interactive,
        shown="kbdinteractiveauthentication yes", head=["KbdInteractiveAuthentication no"],
        note="wombat does not implement keyboard-interactive: 'yes' is accepted "
             "and shown by -T, but the method is offered neither way"),
    "AuthorizedKeysFile": Case("AuthorizedKeysFile /nonexistent/wbt_keys",
                               refused_when_applied(),
                               shown="authorizedkeysfile /nonexistent/wbt_keys"),
    "MaxAuthTries": Case("MaxAuthTries 2", check_max_auth_tries, shown="maxauthtries 2",
                         note="ssh -i wrong -i wrong -i right, IdentitiesOnly"),
    "AllowUsers": Case(f"AllowUsers {SECOND}", check_allow_users,
                       shown=f"allowusers {SECOND}"),
    "DenyUsers": Case(f"DenyUsers {SECOND}", check_deny_users, shown=f"denyusers {SECOND}",
                      user=SECOND),
    "AllowGroups": Case(f"AllowGroups {SECOND}", check_allow_groups,
                        shown=f"allowgroups {SECOND}",
                        note=f"{SECOND}'s own group; {MAIN} is not in it"),
    "DenyGroups": Case(f"DenyGroups {SECOND}", check_deny_groups,
                       shown=f"denygroups {SECOND}", user=SECOND),
    "PubkeyAcceptedAlgorithms": Case("PubkeyAcceptedAlgorithms rsa-sha2-512,rsa-sha2-256",
                                     check_pubkey_algs,
                                     shown="pubkeyacceptedalgorithms rsa-sha2-512,rsa-sha2-256"),
    # ---- what the session shows
    "Banner": Case([], check_banner, setup="banner",
                   note="the file's path is per test: see banner_file"),
    "PermitUserEnvironment": Case("PermitUserEnvironment yes", check_user_environment,
                                  shown="permituserenvironment yes",
                                  setup="environment"),
    "RekeyLimit": Case("RekeyLimit 64K", check_rekey, shown="rekeylimit 65536 3600"),
    "MaxSessions": Case("MaxSessions 1", check_max_sessions, shown="maxsessions 1",
                        note="paramiko opens two sessions on one connection"),
    "ChannelWindowSize": Case("ChannelWindowSize 64K", check_channel_window,
                              shown="channelwindowsize 65536",
                              note="paramiko records the window in the open confirmation"),
    "PermitTTY": Case("PermitTTY no", check_permit_tty, shown="permittty no"),
    "SetEnv": Case("SetEnv WBT_SETENV=from-match", check_set_env,
                   shown="setenv WBT_SETENV=from-match"),
    "ForceCommand": Case("ForceCommand echo forced-by-match", check_force_command,
                         shown="forcecommand echo forced-by-match"),
    "LogLevel": Case("LogLevel DEBUG1", check_log_level, shown="loglevel DEBUG1",
                     opts=["LogLevel=INFO"]),
    # ---- timers
    "ClientAliveInterval": Case("ClientAliveInterval 1", check_client_alive_interval,
                                shown="clientaliveinterval 1",
                                opts=["ClientAliveCountMax=1"]),
    "ClientAliveCountMax": Case("ClientAliveCountMax 1", check_client_alive_count,
                                shown="clientalivecountmax 1",
                                opts=["ClientAliveInterval=1"]),
    "ChannelTimeout": Case("ChannelTimeout session=1", check_channel_timeout,
                           shown="channeltimeout session=1"),
    "UnusedConnectionTimeout": Case("UnusedConnectionTimeout 1", check_unused_connection,
                                    shown="unusedconnectiontimeout 1"),
    # ---- session end (wombat's own)
    "CloseOnChildExit": Case("CloseOnChildExit yes", check_close_on_child_exit,
                             shown="closeonchildexit yes"),
    "SessionKillMode": Case("SessionKillMode none", check_kill_mode,
                            shown="sessionkillmode none"),
    "SessionKillSignal": Case("SessionKillSignal HUP", check_kill_signal,
                              shown="sessionkillsignal HUP",
                              opts=["SessionKillMode=control-group", "SessionKillTimeout=30"],
                              setup="cgroup"),
    "SessionKillTimeout": Case("SessionKillTimeout 1", check_kill_timeout,
                               shown="sessionkilltimeout 1",
                               opts=["SessionKillMode=control-group", "SessionKillTimeout=30"],
                               setup="cgroup"),
    # ---- forwarding
    "AllowTcpForwarding": Case("AllowTcpForwarding no", check_tcp_forwarding_off,
                               shown="allowtcpforwarding no"),
    "PermitOpen": Case("PermitOpen none", check_permit_open_none, shown="permitopen none"),
    "PermitListen": Case("PermitListen none", check_permit_listen_none,
                         shown="permitlisten none"),
    "GatewayPorts": Case("GatewayPorts yes", check_gateway_ports, shown="gatewayports yes"),
    "DisableForwarding": Case("DisableForwarding yes", check_disable_forwarding,
                              shown="disableforwarding yes"),
    "AllowStreamLocalForwarding": Case("AllowStreamLocalForwarding no", check_streamlocal_off,
                                       shown="allowstreamlocalforwarding no"),
    "StreamLocalBindMask": Case("StreamLocalBindMask 0117", check_bind_mask,
                                shown="streamlocalbindmask 0117"),
    "StreamLocalBindUnlink": Case("StreamLocalBindUnlink yes", check_bind_unlink,
                                  shown="streamlocalbindunlink yes"),
    "ForwardConnectTimeout": Case("ForwardConnectTimeout 1", check_connect_timeout,
                                  shown="forwardconnecttimeout 1"),
    "AllowAgentForwarding": Case("AllowAgentForwarding no", check_agent_forwarding_refused,
                                 shown="allowagentforwarding no",
                                 note="agent forwarding is not implemented"),
    "X11Forwarding": Case("X11Forwarding yes", check_login_works,
                          shown="x11forwarding yes",
                          note="X11 forwarding is not implemented; 'yes' is logged as ignored"),
    # ---- accepted, not implemented (IGNORED in config.c): -T does not print them
    "PermitTunnel": Case(**ignored("PermitTunnel no", "PermitTunnel yes", False,
                                   "no tunnel device forwarding; 'yes' logged as ignored "
                                   "(no tunnel is the closed side)")),
    "HostbasedAuthentication": Case(**ignored(
        "HostbasedAuthentication no", "HostbasedAuthentication yes", False,
        "no host-based authentication: 'yes' is logged as ignored")),
    "IgnoreRhosts": Case(**ignored("IgnoreRhosts yes", "IgnoreRhosts no", False,
                                   "rhosts are never read: 'no' is logged as ignored")),
    "IgnoreUserKnownHosts": Case(**ignored("IgnoreUserKnownHosts yes", None, False,
                                           "any value: only host-based auth uses it")),
    "GSSAPIAuthentication": Case(**ignored("GSSAPIAuthentication no",
                                           "GSSAPIAuthentication yes", False,
                                           "no GSSAPI: 'yes' is logged as ignored")),
    "KerberosAuthentication": Case(**ignored("KerberosAuthentication no",
                                             "KerberosAuthentication yes", False,
                                             "no Kerberos: 'yes' is logged as ignored")),
    "X11DisplayOffset": Case(**ignored("X11DisplayOffset 10", None, False,
                                       "any value: no X11 forwarding")),
    "X11UseLocalhost": Case(**ignored("X11UseLocalhost yes", None, False,
                                      "any value: no X11 forwarding")),
    "PermitUserRC": Case(**ignored("PermitUserRC no", "PermitUserRC yes", False,
                                   "~/.ssh/rc is never run: 'yes' is logged as ignored")),
    "AuthorizedKeysCommandUser": Case(**ignored("AuthorizedKeysCommandUser nobody", None,
                                                False, "any value: AuthorizedKeysCommand "
                                                "itself only takes 'none'")),
    "AuthenticationMethods": Case(**ignored("AuthenticationMethods any",
                                            "AuthenticationMethods publickey,password",
                                            True, "only 'any': a required second factor "
                                            "cannot be ignored")),
    "ChrootDirectory": Case(**ignored("ChrootDirectory none", "ChrootDirectory /srv", True,
                                      "only 'none': a chroot cannot be ignored")),
    "AuthorizedKeysCommand": Case(**ignored("AuthorizedKeysCommand none",
                                            "AuthorizedKeysCommand /bin/x", True,
                                            "only 'none'")),
    "AuthorizedPrincipalsFile": Case(**ignored("AuthorizedPrincipalsFile none",
                                               "AuthorizedPrincipalsFile /etc/wbt_p", True,
                                               "only 'none'")),
}


# ------------------------------------------------------------------ fixtures

def match_keywords():
    subprocess.run(["make", "-s", "tests/tools/match_keywords"], cwd=REPO, check=True,
                   capture_output=True)
    r = subprocess.run([os.path.join(REPO, "tests", "tools", "match_keywords")],
                       capture_output=True, text=True, check=True)
    return r.stdout.split()


def hash_of_empty_password():
    """A SHA-512 crypt hash of "" (chpasswd refuses an empty password)."""
    libcrypt = ctypes.CDLL(ctypes.util.find_library("crypt"))
    libcrypt.crypt.restype = ctypes.c_char_p
    libcrypt.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    return libcrypt.crypt(b"", b"$6$wbtemptysalt$").decode()


def set_password_state(name, state):
    """key-only ("*"), a known password, or the empty password. (Empty
    means a hash of "": an empty password FIELD is refused by wombat even
    with PermitEmptyPasswords yes, unlike OpenSSH; see the report.)"""
    if state == "password":
        subprocess.run(["chpasswd"], input=f"{name}:{PASSWORD}\n", text=True, check=True)
    else:
        hashed = hash_of_empty_password() if state == "empty" else "*"
        subprocess.run(["usermod", "-p", hashed, name], check=True)


def write_user_file(name, rel, text, mode=0o600):
    pw = pwd.getpwnam(name)
    path = os.path.join(pw.pw_dir, rel)
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, mode)
    return path


def make_user(name, keys):
    pw = pwd.getpwnam(name)
    sshdir = os.path.join(pw.pw_dir, ".ssh")
    os.makedirs(sshdir, mode=0o700)
    os.chown(sshdir, pw.pw_uid, pw.pw_gid)
    with open(keys.authorized_keys) as f:          # every test key
        write_user_file(name, ".ssh/authorized_keys", f.read())


@pytest.fixture(scope="module")
def users(keys):
    """MAIN and SECOND, each with the test keys in ~/.ssh/authorized_keys."""
    with throwaway_user(MAIN, "Match cases") as main, \
            throwaway_user(SECOND, "Match cases for a second user") as second:
        make_user(main, keys)
        make_user(second, keys)
        yield main, second


@pytest.fixture
def fresh_users(users):
    """Both users reset to key-only, no ~/.ssh/environment."""
    for name in users:
        set_password_state(name, "key-only")
        env = os.path.join(pwd.getpwnam(name).pw_dir, ".ssh", "environment")
        if os.path.exists(env):
            os.unlink(env)
    return users


class CaseTimeout(Exception):
    pass


@pytest.fixture(autouse=True)
def bounded(request):
    """No case may hang the module: 120 s each, then it fails."""
    def expire(signum, frame):
        raise CaseTimeout(f"{request.node.name} still running after 120 s")
    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(120)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def server_for(start_server, keys, case, config):
    # the tmp keys file for root, ~/.ssh/authorized_keys for the throw-away user
    return start_server(case.opts, config=config,
                        authorized_keys=f"{keys.authorized_keys} .ssh/authorized_keys")


def dump_for(srv, user, config_path=None):
    """`wombatd -T -C` with exactly the server's command line (its -f FILE,
    -h and -o options), for a connection like the test's."""
    argv = [a for a in srv.argv if a not in ("-D", "-e")]
    if config_path is not None:
        argv[argv.index("-f") + 1] = str(config_path)
    spec = f"user={user},addr=127.0.0.1,laddr=127.0.0.1,lport={srv.port}"
    r = subprocess.run(argv + ["-T", "-C", spec], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    return r.stdout


def keyword_lines(dump, keyword):
    return [l for l in dump.splitlines() if l.split(" ", 1)[0] == keyword.lower()]


# --------------------------------------------------------------------- tests

def test_every_match_keyword_has_a_case():
    """The guard: a keyword allowed in Match without a case here fails."""
    listed = match_keywords()
    assert len(listed) == len(set(listed))
    missing = sorted(set(listed) - set(CASES))
    stale = sorted(set(CASES) - set(listed))
    assert not missing, f"Match-able keywords without a login test: {missing}"
    assert not stale, f"cases for keywords no longer allowed in Match: {stale}"


@pytest.mark.parametrize("keyword", sorted(CASES), ids=sorted(CASES))
def test_match_option(keyword, request, start_server, keys, tmp_path, fresh_users):
    case = CASES[keyword]
    opts = list(case.opts)
    if case.setup == "password":
        set_password_state(MAIN, "password")
    elif case.setup == "empty":
        set_password_state(MAIN, "empty")
    elif case.setup == "environment":
        write_user_file(MAIN, ".ssh/environment", "WBT_FROM_FILE=user-env\n")
    elif case.setup == "cgroup":
        opts.append(f"SessionCgroupRoot={request.getfixturevalue('cg_root')}")
    lines, shown = case.lines, case.shown
    if case.setup == "banner":
        lines, shown = banner_file(tmp_path)
    case = Case(lines, case.check, shown=shown, user=case.user, opts=opts,
                head=case.head, bad=case.bad, note=case.note)

    for applied, criterion in ((True, APPLIES), (False, ELSEWHERE)):
        srv = run_check(keyword, case, applied, criterion, start_server, keys, tmp_path)
        dump = dump_for(srv, case.user)
        plain_path = tmp_path / f"plain-{applied}.conf"
        plain_path.write_text(case.config(None))
        plain = dump_for(srv, case.user, plain_path)
        if case.shown is None:
            # ignored keyword: -T prints nothing for it either way
            assert not keyword_lines(dump, keyword), keyword_lines(dump, keyword)
            continue
        assert case.shown not in keyword_lines(plain, keyword), \
            f"the case's Match value is the default: {case.shown}"
        if applied:
            assert case.shown in keyword_lines(dump, keyword), \
                f"-T -C does not show the Match value {case.shown!r}: {keyword_lines(dump, keyword)}"
        else:
            assert keyword_lines(dump, keyword) == keyword_lines(plain, keyword), \
                f"-T -C shows {keyword_lines(dump, keyword)} where the Match does not apply"

    if case.bad is not None:
        check_bad_value(keyword, case, keys, tmp_path)


def wombatd_t(conf, keys):
    """`wombatd -t -f conf` with the test host keys."""
    argv = [WOMBATD, "-t", "-f", str(conf)]
    for key in keys.host.values():
        argv += ["-h", key]
    return subprocess.run(argv, capture_output=True, text=True, timeout=10)


def nologin_interfered(srv):
    """test_access.py puts /etc/nologin in place for a moment, which
    refuses every non-root login; other suites may run at the same time."""
    return re.search(r"not allowed because /etc/nologin exists", srv.log())


def run_check(keyword, case, applied, criterion, start_server, keys, tmp_path):
    """The case's check on a server with the Match block; returns the
    (stopped) server. Once more on a fresh server if /etc/nologin from
    another suite refused a login meanwhile (the log says so), whether the
    check failed or passed (a refusal for that reason proves nothing)."""
    for attempt in (1, 2):
        srv = server_for(start_server, keys, case, case.config(criterion))
        failure = None
        try:
            case.check(Ctx(srv, applied, keys, tmp_path))
        except AssertionError as e:
            failure = e
        finally:
            srv.stop()
        if attempt == 1 and nologin_interfered(srv):
            wait_for(lambda: not os.path.exists("/etc/nologin"), 30)
            continue
        if failure is not None:
            where = "applies" if applied else "does not apply"
            raise AssertionError(f"[{keyword}: Match {where}; {case.note}] {failure}") \
                from failure
        assert not nologin_interfered(srv), "/etc/nologin kept refusing logins"
        return srv


def check_bad_value(keyword, case, keys, tmp_path):
    """An ignored keyword's value wombat cannot honour, in a Match block."""
    value, fails = case.bad
    conf = tmp_path / "bad.conf"
    if value is None:
        # any value is harmless ("*" in config.c): it loads without a word
        conf.write_text(case.config(APPLIES))
        r = wombatd_t(conf, keys)
        assert r.returncode == 0 and "ignored" not in r.stderr, r.stderr
        return
    conf.write_text(f"Match {APPLIES}\n    {value}\n")
    r = wombatd_t(conf, keys)
    where = f"{conf}:2: {keyword}: '{value.split(' ', 1)[1]}' is not supported by wombat"
    if fails:
        assert r.returncode != 0, f"{value!r} in Match loaded: {r.stderr}"
        assert where in r.stderr, r.stderr
    else:
        assert r.returncode == 0, r.stderr
        assert where + ", ignored" in r.stderr, r.stderr
