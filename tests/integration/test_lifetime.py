"""Session lifetime (issue 4): when a session channel closes — OpenSSH's EOF
rule by default, CloseOnChildExit yes draining every byte — and why each
connection ended, with ChannelTimeout and UnusedConnectionTimeout.

Time bounds are behaviour (hangs / does not hang), with wide margins."""
import asyncio
import hashlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import time

import pytest

from conftest import (IS_ROOT, SERVER_KIND, USER, Server, free_port, server_argv, ssh,
                      ssh_argv, throwaway_user)

wombat_only = pytest.mark.skipif(SERVER_KIND != "wombatd",
                                 reason="wombat's own options and log lines")


@pytest.fixture(scope="module")
def srv_no(start_server):
    srv = start_server(["CloseOnChildExit=no"])
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def srv_yes(start_server):
    if SERVER_KIND != "wombatd":
        pytest.skip("CloseOnChildExit is wombat's own option")
    srv = start_server(["CloseOnChildExit=yes"])
    yield srv
    srv.stop()


def timed_ssh(server, cmd, timeout, **kw):
    t0 = time.monotonic()
    r = ssh(server, cmd, timeout=timeout, **kw)
    return r, time.monotonic() - t0


# ------------------------------------------------------ hang on child exit

def test_background_job_keeps_session_open_by_default(srv_no):
    """OpenSSH's rule: the background job holds stdout, so ssh waits."""
    p = subprocess.Popen(ssh_argv(srv_no, "echo started; sleep 20 &"),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            p.wait(timeout=5)
    finally:
        p.kill()
        out, _ = p.communicate(timeout=10)
    assert out == b"started\n"


@wombat_only
def test_background_job_does_not_hold_session_with_close_on_child_exit(srv_yes):
    r, took = timed_ssh(srv_yes, "echo started; sleep 20 &", timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"started\n"
    assert took < 3, f"took {took:.1f}s: the background job held the session"


@wombat_only
def test_close_on_child_exit_drains_50m(srv_yes, tmp_path):
    """All 50 MiB written before the exit arrive; the 30 s job is not waited for."""
    copy = tmp_path / "f"
    cmd = f"head -c 50M /dev/urandom | tee {copy}; sleep 30 &"
    r, took = timed_ssh(srv_yes, cmd, timeout=60)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout) == 50 * 1024 * 1024
    with open(copy, "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    assert hashlib.sha256(r.stdout).hexdigest() == want
    assert took < 20, f"took {took:.1f}s: waited for the background job"


@wombat_only
def test_close_on_child_exit_per_match_block(start_server, keys, tmp_path):
    """CloseOnChildExit yes only inside a Match block that applies to us."""
    cfg = tmp_path / "wombatd_config"
    cfg.write_text("CloseOnChildExit no\n"
                   f"Match User {USER}\n"
                   "    CloseOnChildExit yes\n"
                   "Match User nobody-else\n"
                   "    CloseOnChildExit no\n")
    port = free_port()
    argv = server_argv("wombatd", port, list(keys.host.values()), keys.authorized_keys, [])
    argv[1:1] = ["-f", str(cfg)]
    srv = Server("wombatd", port, str(tmp_path / "log"), argv).start()
    try:
        r, took = timed_ssh(srv, "echo x; sleep 20 &", timeout=30)
        assert r.returncode == 0 and r.stdout == b"x\n"
        assert took < 3, f"took {took:.1f}s: the Match block did not apply"
    finally:
        srv.stop()


# ------------------------------------------- the SIGCHLD race: no lost bytes

KNOWN = hashlib.sha256(b"wombat").digest() * (256 * 1024 // 32)   # 256 KiB


@pytest.fixture(scope="module")
def sh_user(keys):
    """A throw-away account with /bin/sh and the test key (as root), else the
    test user. Hundreds of sessions as root would each run root's shell
    start-up files (pyenv init here: ~0.6 s a session), which measures the
    machine, not the server."""
    if not IS_ROOT:
        yield USER, None
        return
    with throwaway_user("wblife", "fast sessions") as name:
        pw = pwd.getpwnam(name)
        sshdir = os.path.join(pw.pw_dir, ".ssh")
        os.makedirs(sshdir, exist_ok=True)
        shutil.copy(keys.user["ed25519"] + ".pub", os.path.join(sshdir, "authorized_keys"))
        for path in (sshdir, os.path.join(sshdir, "authorized_keys")):
            os.chown(path, pw.pw_uid, pw.pw_gid)
        yield name, pw.pw_dir


def user_server(start_server, sh_user, opts):
    name, home = sh_user
    if home is None:
        return start_server(opts)
    return start_server(opts, authorized_keys="%h/.ssh/authorized_keys")


@pytest.fixture(scope="module")
def known_file(tmp_path_factory, sh_user):
    home = sh_user[1]
    path = (os.path.join(home, "known.bin") if home
            else str(tmp_path_factory.mktemp("known") / "known.bin"))
    with open(path, "wb") as f:
        f.write(KNOWN)
    os.chmod(path, 0o644)
    return path


def run_many(server, keys, commands, parallel=8, term=None, user=USER):
    """Run commands as separate sessions over one asyncssh connection;
    returns [(stdout bytes, stderr bytes, exit status)]."""
    import asyncssh

    async def one(conn, sem, cmd):
        async with sem:
            kw = {"term_type": term, "term_size": (80, 24)} if term else {}
            r = await conn.run(cmd, check=False, encoding=None, **kw)
            return r.stdout, r.stderr, r.exit_status

    async def go():
        async with asyncssh.connect("127.0.0.1", port=server.port, username=user,
                                    known_hosts=None, client_keys=[keys.user["ed25519"]],
                                    agent_path=None) as conn:
            sem = asyncio.Semaphore(parallel)
            return await asyncio.gather(*(one(conn, sem, c) for c in commands))

    return asyncio.run(asyncio.wait_for(go(), 120))


@pytest.mark.parametrize("mode", ["no", "yes"])
def test_200_short_commands_lose_nothing(start_server, keys, sh_user, known_file, mode):
    """Each command writes 256 KiB (four pipe-fulls) and exits at once: the
    exit is seen while most of it is still to be read."""
    if mode == "yes" and SERVER_KIND != "wombatd":
        pytest.skip("CloseOnChildExit is wombat's own option")
    srv = user_server(start_server, sh_user, [f"CloseOnChildExit={mode}", "MaxSessions=10"])
    try:
        cmds = [f"exec cat {known_file}" if i % 2 else f"cat {known_file}; cat {known_file} >&2"
                for i in range(200)]
        results = run_many(srv, keys, cmds, user=sh_user[0])
    finally:
        srv.stop()
    # stderr may start with noise from the user's shell start-up files
    # (pyenv's "cannot rehash" under load): the command's part must be whole
    bad = [i for i, (out, err, st) in enumerate(results)
           if out != KNOWN or st != 0 or (i % 2 == 0 and not err.endswith(KNOWN))]
    assert not bad, f"{len(bad)} of 200 sessions lost output, first {bad[:5]}: " \
        f"got {len(results[bad[0]][0])} bytes out, {len(results[bad[0]][1])} bytes err, " \
        f"status {results[bad[0]][2]}"


PRINTABLE = (b"0123456789abcdef" * (256 * 1024 // 16))   # no newline: a pty leaves it alone


@pytest.mark.parametrize("mode", ["no", "yes"])
def test_pty_sessions_lose_nothing(start_server, keys, sh_user, tmp_path, mode):
    if mode == "yes" and SERVER_KIND != "wombatd":
        pytest.skip("CloseOnChildExit is wombat's own option")
    home = sh_user[1]
    path = os.path.join(home, "printable") if home else str(tmp_path / "printable")
    with open(path, "wb") as f:
        f.write(PRINTABLE)
    os.chmod(path, 0o644)
    srv = user_server(start_server, sh_user, [f"CloseOnChildExit={mode}", "MaxSessions=10"])
    try:
        results = run_many(srv, keys, [f"cat {path}"] * 40, term="dumb", user=sh_user[0])
    finally:
        srv.stop()
    # the pty carries stderr too: noise from the user's shell start-up files
    # may come first; what the command wrote must all be there, in order
    bad = [i for i, (out, _, st) in enumerate(results)
           if not out.endswith(PRINTABLE) or st != 0]
    assert not bad, f"{len(bad)} of 40 pty sessions lost output: " \
        f"got {len(results[bad[0]][0])} bytes, status {results[bad[0]][2]}, " \
        f"starting {results[bad[0]][0][:160]!r}"


@wombat_only
def test_pty_close_on_child_exit_background_job(srv_yes):
    """With a pty too, the session ends when the command exits."""
    r, took = timed_ssh(srv_yes, "echo started; sleep 20 &", timeout=30, opts=["RequestTTY=force"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.replace(b"\r", b"") == b"started\n"
    assert took < 3, f"took {took:.1f}s"


# ------------------------------------------------ EOF, CLOSE and SIGPIPE

@pytest.mark.parametrize("mode", ["no", "yes"])
def test_client_eof_closes_stdin_only(srv_no, srv_yes, mode):
    srv = srv_no if mode == "no" else srv_yes
    r = ssh(srv, "wc -c; sleep 1; echo after-eof; echo err >&2", input=b"x" * 1000,
            timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [b"1000", b"after-eof"]
    assert r.stderr.endswith(b"err\n")


def test_stderr_after_stdout_eof_arrives(srv_no):
    r = ssh(srv_no, "exec 1>&-; sleep 0.5; echo late >&2", timeout=30)
    assert r.returncode == 0
    assert r.stderr.endswith(b"late\n")


@pytest.mark.parametrize("mode", ["no", "yes"])
def test_cat_dev_zero_into_false_does_not_hang(srv_no, srv_yes, mode):
    srv = srv_no if mode == "no" else srv_yes
    argv = " ".join(ssh_argv(srv, "cat /dev/zero"))
    t0 = time.monotonic()
    r = subprocess.run(["/bin/sh", "-c", argv + " | false"], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=30)
    took = time.monotonic() - t0
    assert r.returncode == 1
    assert took < 10, f"took {took:.1f}s"


def test_child_sigpipe_is_exit_signal_pipe(srv_no, keys):
    import asyncssh
    cmd = ("exec python3 -c 'import os, signal; signal.signal(signal.SIGPIPE, signal.SIG_DFL); "
           "r, w = os.pipe(); os.close(r); os.write(w, b\"x\")'")

    async def go():
        async with asyncssh.connect("127.0.0.1", port=srv_no.port, username=USER,
                                    known_hosts=None, client_keys=[keys.user["ed25519"]],
                                    agent_path=None) as conn:
            r = await conn.run(cmd, check=False)
            return r.exit_status, r.exit_signal

    status, sig = asyncio.run(asyncio.wait_for(go(), 30))
    assert sig is not None and sig[0] == "PIPE", (status, sig)


# ------------------------------------------------------------ timeouts

@wombat_only
def test_channel_timeout_closes_idle_session(start_server):
    srv = start_server(["ChannelTimeout=session=2"])
    try:
        mark = srv.mark()
        r, took = timed_ssh(srv, "sleep 30", timeout=40)
        assert took < 8, f"idle session lived {took:.1f}s with ChannelTimeout session=2"
        assert srv.wait_log(r"no traffic for 2 s \(ChannelTimeout session=2\)", mark)
        # traffic every 0.5 s keeps it open well past 2 s
        r, took = timed_ssh(srv, "for i in 1 2 3 4 5 6 7 8; do echo $i; sleep 0.5; done",
                            timeout=40)
        assert r.returncode == 0 and r.stdout.split() == [str(i).encode() for i in range(1, 9)]
    finally:
        srv.stop()


@wombat_only
def test_channel_timeout_wildcard_and_other_types(start_server):
    """A pattern covers session; a timeout for another type does not."""
    srv = start_server(["ChannelTimeout=direct-tcpip=1 sess*=2"])
    try:
        r, took = timed_ssh(srv, "sleep 30", timeout=40)
        assert 1.5 < took < 8, f"took {took:.1f}s"
    finally:
        srv.stop()


@wombat_only
def test_unused_connection_timeout(start_server):
    srv = start_server(["UnusedConnectionTimeout=2"])
    try:
        mark = srv.mark()
        t0 = time.monotonic()
        r = subprocess.run(ssh_argv(srv, opts=["SessionType=none"]), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30)
        took = time.monotonic() - t0
        assert took < 8, f"connection without channels lived {took:.1f}s"
        assert srv.wait_log(r"ended: unused connection timeout: no open channel for 2 s", mark)
        # an open session is not "unused"
        r = ssh(srv, "sleep 3; echo done", timeout=30)
        assert r.returncode == 0 and r.stdout == b"done\n"
    finally:
        srv.stop()


# ------------------------------------------------ why each connection ended

ENDED = r"Connection from 127\.0\.0\.1 port (\d+) ended: (.*); user (.+?); (\d+)s, (\d+) bytes in, (\d+) bytes out"


def ended_lines(srv, since):
    """End lines, without those of start_server's port probes (which
    connect and close without sending a byte)."""
    return [m for m in re.findall(ENDED, srv.log(since)) if m[4] != "0"]


def wait_ended(srv, since, cause_rx, timeout=10):
    deadline = time.monotonic() + timeout
    while not ended_lines(srv, since) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)     # a second line, if any, would follow at once
    assert ended_lines(srv, since), f"no end line:\n{srv.log(since)}"
    lines = ended_lines(srv, since)
    assert len(lines) == 1, f"logged {len(lines)} times: {lines}"
    port, cause, user, secs, bin_, bout = lines[0]
    assert re.search(cause_rx, cause), cause
    return cause, user, int(secs), int(bin_), int(bout)


@pytest.fixture(scope="module")
def logsrv(start_server):
    if SERVER_KIND != "wombatd":
        pytest.skip("wombat's log lines")
    srv = start_server(["LoginGraceTime=2", "MaxAuthTries=2"])
    yield srv
    srv.stop()


def test_cause_client_closed(logsrv):
    mark = logsrv.mark()
    r = ssh(logsrv, "head -c 100000 /dev/zero")
    assert r.returncode == 0
    cause, user, secs, bin_, bout = wait_ended(logsrv, mark, r"^client closed|connection closed by client")
    assert user == USER and bout > 100000 and bin_ > 1000
    assert logsrv.wait_log(r"session channel \d+ closed \(command exited, output at EOF\): "
                           r"[\d.]+s, 0 bytes in, 100000 bytes out", mark)


def test_cause_auth_failure(logsrv, keys):
    mark = logsrv.mark()
    r = ssh(logsrv, "true", key=keys.wrong)      # three keys, MaxAuthTries 2
    assert r.returncode == 255
    wait_ended(logsrv, mark, r"^auth failure \(2 failed attempts as \S+\): "
               r"Too many authentication failures")
    mark = logsrv.mark()
    r = ssh(logsrv, "true", key=keys.wrong[0])   # the client gives up
    assert r.returncode == 255
    wait_ended(logsrv, mark, r"^auth failure \(1 failed attempt as \S+\): "
               r"connection closed by client")


def test_cause_login_grace_time(logsrv):
    mark = logsrv.mark()
    with socket.create_connection(("127.0.0.1", logsrv.port)) as s:
        s.sendall(b"SSH-2.0-idle\r\n")
        cause, user, secs, _, _ = wait_ended(logsrv, mark, r"LoginGraceTime \(2 s\)")
    assert user == "(not authenticated)"
    assert secs >= 2


def test_cause_protocol_error(logsrv):
    mark = logsrv.mark()
    with socket.create_connection(("127.0.0.1", logsrv.port)) as s:
        s.sendall(b"SSH-2.0-bad\r\n" + b"\x00\x00\x00\x0c\x0a" + b"\xff" * 11)
        wait_ended(logsrv, mark, r"protocol error")


def test_cause_read_error(logsrv):
    """A reset connection (RST) is a read error with errno's text."""
    mark = logsrv.mark()
    s = socket.create_connection(("127.0.0.1", logsrv.port))
    s.sendall(b"SSH-2.0-rst\r\n")
    time.sleep(0.3)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()
    wait_ended(logsrv, mark, r"read error: Connection reset by peer")
