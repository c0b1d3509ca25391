"""What survives a session (issue 5): per-session cgroup v2 and
SessionKillMode process | control-group | mixed | none, applied when the
client vanishes (SIGKILLed ssh: the connection drops); the RFC 4254 `signal`
request; the start-up refusal without a writable cgroup v2.

Processes are found through a marker in their environment and cleaned up
by PID."""
import asyncio
import os
import re
import select
import shutil
import signal
import subprocess
import time
import uuid

import pytest

from conftest import (IS_ROOT, SERVER_KIND, USER, WOMBATD, Server, free_port,
                      server_argv, ssh, ssh_argv, throwaway_user)

pytestmark = pytest.mark.skipif(SERVER_KIND != "wombatd",
                                reason="SessionKillMode is wombat's own option")


# ------------------------------------------------------------------ helpers

def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            if post.startswith("cgroup2 "):
                return pre.split()[4]
    return None


@pytest.fixture(scope="module")
def cg_root():
    """A test-owned cgroup v2 directory, passed as SessionCgroupRoot."""
    if not IS_ROOT:
        pytest.skip("per-session cgroups need root to write the cgroup v2 tree")
    mnt = cgroup2_mount()
    if not mnt:
        pytest.skip("no cgroup v2 hierarchy mounted on this machine")
    root = os.path.join(mnt, f"wombat-test-{os.getpid()}")
    try:
        os.mkdir(root)
    except OSError as e:
        pytest.skip(f"cgroup v2 at {mnt} is not writable: {e}")
    yield root
    remove_cgroup_tree(root)


def remove_cgroup_tree(root):
    for sub in sorted(os.listdir(root)):
        path = os.path.join(root, sub)
        if not os.path.isdir(path):
            continue
        with open(os.path.join(path, "cgroup.procs")) as f:
            for pid in f.read().split():
                kill_quietly(int(pid))
        for _ in range(50):
            try:
                os.rmdir(path)
                break
            except OSError:
                time.sleep(0.05)
    os.rmdir(root)


def kill_quietly(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def marked(token):
    """{pid: cmdline} of live processes whose environment has WMARK=token."""
    found = {}
    needle = f"WMARK={token}".encode()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/environ", "rb") as f:
                if needle not in f.read().split(b"\0"):
                    continue
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode().strip()
            with open(f"/proc/{d}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
        except OSError:
            continue
        found[int(d)] = cmd
    return found


def classify(procs):
    """Names of the jobs the scenario starts that are alive now."""
    names = set()
    for cmd in procs.values():
        if cmd.startswith("tmux"):
            names.add("tmux")
        for n in ("600", "601", "602", "603", "604", "605", "606"):
            if cmd == f"sleep {n}":
                names.add({"600": "nohup", "601": "background", "602": "setsid",
                           "603": "in-tmux", "604": "disown", "605": "background",
                           "606": "foreground"}[n])
    return names


def cleanup(token):
    for pid in marked(token):
        kill_quietly(pid)


def read_until(proc, pattern, timeout):
    """Read proc.stdout until regex pattern shows up; return all output."""
    out = b""
    deadline = time.monotonic() + timeout
    rx = re.compile(pattern.encode())
    while not rx.search(out):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {pattern!r} within {timeout}s; got {out!r}")
        ready, _, _ = select.select([proc.stdout], [], [], left)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                raise AssertionError(f"session ended early; got {out!r}")
            out += chunk
    return out


def wait_for(predicate, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)


def start_wombatd(tmp_path, keys, opts, config_text=None):
    port = free_port()
    argv = server_argv("wombatd", port, list(keys.host.values()),
                       f"{keys.authorized_keys} .ssh/authorized_keys", opts)
    if config_text is not None:
        cfg = tmp_path / f"wombatd_config_{port}"
        cfg.write_text(config_text)
        argv[1:1] = ["-f", str(cfg)]
    return Server("wombatd", port, str(tmp_path / f"wombatd-{port}.log"), argv).start()


# Jobs started from an interactive pty shell, as a user would.
PTY_SCRIPT = """export WMARK={t}
nohup sleep 600 >/dev/null 2>&1 &
sleep 601 &
setsid sleep 602 >/dev/null 2>&1 </dev/null &
sleep 604 & disown
tmux -L wombat-{t} -f /dev/null new-session -d 'sleep 603'
printf '%s-%s\\n' READY {t}
"""
PTY_ALL = {"nohup", "background", "setsid", "disown", "tmux", "in-tmux"}

# The same from a plain exec (no pty, no job control): everything but the
# setsid'd job shares the main process's group. The command ends in `exec
# sleep 606`, so that sleep is the main process whatever the user's shell
# (bash execs a last simple command by itself, dash does not).
EXEC_SCRIPT = ("export WMARK={t}; sleep 605 & "
               "setsid sleep 602 >/dev/null 2>&1 </dev/null & "
               "printf '%s-%s\\n' READY {t}; exec sleep 606")
EXEC_ALL = {"background", "setsid", "foreground"}


def run_and_drop(srv, script, all_jobs, pty, user=None):
    """Start the jobs in a session, SIGKILL the client once they all run,
    wait for the server to log the session's end; returns (token, log text
    since the drop)."""
    token = uuid.uuid4().hex[:12]
    if pty:
        argv = ssh_argv(srv, user=user)
        argv[1:1] = ["-tt"]
    else:
        argv = ssh_argv(srv, script.format(t=token), user=user)
    env = dict(os.environ, TERM="xterm")
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env)
    try:
        if pty:
            proc.stdin.write(script.format(t=token).encode())
            proc.stdin.flush()
        read_until(proc, rf"READY-{token}", 20)
        running = wait_for(lambda: classify(marked(token)) >= all_jobs, 10)
        assert running, f"jobs did not start: {classify(marked(token))}"
        mark = srv.mark()
        proc.kill()                      # the client vanishes
        proc.wait(timeout=5)
        m = srv.wait_log(r"session channel \d+ of \S+ ended: .*", since=mark, timeout=15)
        assert m, f"no session-end line:\n{srv.log(mark)}"
        return token, m.group(0)
    except BaseException:
        cleanup(token)
        raise
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def survivors_after(token, expected, all_jobs):
    """Wait for the jobs that must die to be gone; then the survivors must
    still be there (a moment later, to be sure nothing kills them late)."""
    wait_for(lambda: classify(marked(token)) & all_jobs <= expected, 10)
    time.sleep(0.5)
    return classify(marked(token)) & all_jobs


# ------------------------------------------------- per mode, connection drop

PTY_EXPECTED = {
    # SIGHUP to the shell before the terminal is closed: what ignored or
    # escaped it lives on. A plain "sleep 601 &" is not checked: it dies only
    # if bash hangs up its jobs, which it usually does but not always (seen
    # surviving in about 1 run in 20, also with the shell given 2 s);
    # test_exec_session_dropped checks that job for certain without a pty.
    "process": {"nohup", "setsid", "disown", "tmux", "in-tmux"},
    # no signal from the server; the terminal's hangup still reaches the
    # shell, exactly as when a terminal emulator closes. Whether the plain
    # "sleep 601 &" dies then is bash's race between that SIGHUP and EOF on
    # the closed tty (seen both ways), so it is not checked in this mode.
    "none": {"nohup", "setsid", "disown", "tmux", "in-tmux"},
    "control-group": set(),
    "mixed": set(),
}


@pytest.mark.parametrize("mode", ["process", "control-group", "mixed", "none"])
def test_pty_session_dropped(start_server, cg_root, mode):
    srv = start_server([f"SessionKillMode={mode}", "SessionKillTimeout=1",
                        f"SessionCgroupRoot={cg_root}"])
    try:
        token, end_line = run_and_drop(srv, PTY_SCRIPT, PTY_ALL, pty=True)
        try:
            checked = PTY_ALL - ({"background"} if mode in ("process", "none") else set())
            alive = survivors_after(token, PTY_EXPECTED[mode], checked)
            assert alive == PTY_EXPECTED[mode], (mode, end_line, srv.log()[-3000:])
        finally:
            cleanup(token)
        assert f"SessionKillMode {mode}:" in end_line
        if mode == "control-group":
            # TERM to all of them; nothing left
            m = re.search(r"(\d+) processes running, (\d+) signalled \(SIGTERM\)", end_line)
            # (counts move while it happens: the hangup ends the shell, which
            # may run its logout scripts)
            assert m and int(m.group(1)) >= 6 and int(m.group(2)) >= 6, end_line
            assert end_line.endswith("0 left running"), end_line
        if mode == "mixed":
            assert end_line.endswith("0 left running"), end_line
            assert not re.search(r" 0 killed", end_line), end_line
    finally:
        srv.stop()


def test_pty_hangup_reaches_foreground_job(start_server, cg_root):
    """SessionKillMode none sends nothing, yet the job running in the
    foreground of a pty shell is hung up when the connection drops: the
    terminal's hangup, as when a terminal emulator window closes."""
    srv = start_server(["SessionKillMode=none", f"SessionCgroupRoot={cg_root}"])
    script = ("export WMARK={t}\n"
              "nohup sleep 600 >/dev/null 2>&1 &\n"
              "printf '%s-%s\\n' READY {t}; sleep 606\n")
    try:
        token, end_line = run_and_drop(srv, script, {"nohup", "foreground"}, pty=True)
        try:
            alive = survivors_after(token, {"nohup"}, {"nohup", "foreground"})
            assert alive == {"nohup"}, (alive, end_line)
        finally:
            cleanup(token)
        assert "0 signalled" in end_line, end_line
    finally:
        srv.stop()


PROCESS_EXEC = {"setsid", "background"}
EXEC_EXPECTED = {
    "process": PROCESS_EXEC,         # SIGHUP to the main process only
    "none": EXEC_ALL,                # nothing signalled at all
    "control-group": set(),
    "mixed": set(),
}


@pytest.mark.parametrize("mode", ["process", "control-group", "mixed", "none"])
def test_exec_session_dropped(start_server, cg_root, mode):
    srv = start_server([f"SessionKillMode={mode}", "SessionKillTimeout=1",
                        f"SessionCgroupRoot={cg_root}"])
    try:
        token, end_line = run_and_drop(srv, EXEC_SCRIPT, EXEC_ALL, pty=False)
        try:
            alive = survivors_after(token, EXEC_EXPECTED[mode], EXEC_ALL)
            assert alive == EXEC_EXPECTED[mode], (mode, end_line)
        finally:
            cleanup(token)
        if mode == "none":
            assert "0 signalled" in end_line and "0 killed" in end_line, end_line
    finally:
        srv.stop()


def test_control_group_kills_what_ignores_the_signal(start_server, cg_root):
    """A job that ignores SIGTERM is SIGKILLed (cgroup.kill) after
    SessionKillTimeout, and the session's cgroup is removed."""
    srv = start_server(["SessionKillMode=control-group", "SessionKillTimeout=1",
                        f"SessionCgroupRoot={cg_root}"])
    script = ("export WMARK={t}; trap '' TERM; "
              "(trap '' TERM; exec setsid sleep 602 >/dev/null 2>&1 </dev/null) & "
              "printf '%s-%s\\n' READY {t}; sleep 606")
    try:
        token, end_line = run_and_drop(srv, script, {"setsid", "foreground"}, pty=False)
        try:
            assert wait_for(lambda: not marked(token), 5), classify(marked(token))
        finally:
            cleanup(token)
        assert re.search(r"[1-9]\d* killed \(SIGKILL\), 0 left running", end_line), end_line
        assert wait_for(lambda: not [d for d in os.listdir(cg_root)
                                     if d.startswith("wombat-")], 5), os.listdir(cg_root)
    finally:
        srv.stop()


# ------------------------------------- the connection process killed outright

# The session prints its connection process's PID ($PPID of the shell the
# session's child became) and leaves a background job and a foreground
# `sleep` running; the test SIGKILLs the connection process. Nothing in it
# runs any more, so the listener, reaping it, applies the session's policy
# from its cgroup. Under `none` both sleeps must live on: they write nothing,
# so losing their pipes does not end them.
KILLED_SCRIPT = ("export WMARK={t}; sleep 605 & "
                 "printf 'READY-%s-%s\\n' {t} $PPID; exec sleep 606")
KILLED_ALL = {"background", "foreground"}
KILLED_EXPECTED = {
    "control-group": set(),
    "mixed": set(),
    "process": {"background"},       # SIGHUP to the main process only
    "none": KILLED_ALL,
}


def kill_connection_process(srv):
    """Start KILLED_SCRIPT, SIGKILL its connection process once both jobs
    run; (token, log text since the kill once the listener has reaped it)."""
    token = uuid.uuid4().hex[:12]
    proc = subprocess.Popen(ssh_argv(srv, KILLED_SCRIPT.format(t=token)),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    try:
        out = read_until(proc, rf"READY-{token}-\d+\n", 20)
        conn = int(re.search(rf"READY-{token}-(\d+)".encode(), out).group(1))
        assert wait_for(lambda: classify(marked(token)) >= KILLED_ALL, 10), \
            f"jobs did not start: {classify(marked(token))}"
        mark = srv.mark()
        os.kill(conn, signal.SIGKILL)
        assert srv.wait_log(rf"connection process {conn} killed by signal SIGKILL",
                            since=mark, timeout=10), srv.log(mark)
        return token, mark
    except BaseException:
        cleanup(token)
        raise
    finally:
        proc.wait(timeout=10)


@pytest.mark.parametrize("mode", ["control-group", "mixed", "process", "none"])
def test_killed_connection_process_leaves_sessions_to_kill_mode(start_server, cg_root, mode):
    srv = start_server([f"SessionKillMode={mode}", "SessionKillTimeout=1",
                        f"SessionCgroupRoot={cg_root}"])
    try:
        token, mark = kill_connection_process(srv)
        try:
            alive = survivors_after(token, KILLED_EXPECTED[mode], KILLED_ALL)
            assert alive == KILLED_EXPECTED[mode], (mode, srv.log(mark))
        finally:
            cleanup(token)
        assert srv.wait_log(rf"session channel 0 of {re.escape(USER)} ended: "
                            rf"SessionKillMode {mode}:", since=mark, timeout=10), srv.log(mark)
        if mode in ("control-group", "mixed"):
            assert wait_for(lambda: not [d for d in os.listdir(cg_root)
                                         if d.startswith("wombat-")], 5), os.listdir(cg_root)
    finally:
        srv.stop()


def test_killed_connection_process_policy_comes_from_match(start_server, cg_root):
    """The listener's own policy is `none`; the session's, from a Match
    block, is control-group: the one recorded on the session's cgroup wins."""
    srv = start_server([f"SessionCgroupRoot={cg_root}"],
                       config=(f"SessionKillMode none\nMatch User {USER}\n"
                               "    SessionKillMode control-group\n"
                               "    SessionKillTimeout 1\n"))
    try:
        token, mark = kill_connection_process(srv)
        try:
            alive = survivors_after(token, set(), KILLED_ALL)
            assert alive == set(), srv.log(mark)
        finally:
            cleanup(token)
        assert "SessionKillMode control-group:" in srv.log(mark), srv.log(mark)
    finally:
        srv.stop()


# ----------------------------------------------------------- placement

def test_session_cgroup_under_daemon_cgroup_by_default(start_server):
    """Without SessionCgroupRoot the session's cgroup is a child of the
    daemon's own, found through /proc/self/mountinfo and /proc/self/cgroup,
    named after the user and the session, and removed when it ends."""
    if not IS_ROOT or not cgroup2_mount():
        pytest.skip("needs root and a cgroup v2 hierarchy")
    srv = start_server(["SessionKillMode=control-group"])
    try:
        r = ssh(srv, "cat /proc/self/cgroup", text=True)
        assert r.returncode == 0, r.stderr
        mine = [l[3:] for l in r.stdout.splitlines() if l.startswith("0::")][0]
        with open(f"/proc/{srv.pid}/cgroup") as f:
            daemon = [l[3:].strip() for l in f if l.startswith("0::")][0]
        parent, name = os.path.split(mine)
        assert parent == daemon, (mine, daemon)
        assert re.fullmatch(rf"wombat-{re.escape(USER)}-\d+-ch0", name), name
        path = os.path.join(cgroup2_mount(), mine.lstrip("/"))
        assert wait_for(lambda: not os.path.exists(path), 5), f"{path} not removed"
    finally:
        srv.stop()


# ------------------------------------- process mode without a pty, by PID

# SessionKillMode process hangs up the main process only. Without a pty
# nothing else hangs anyone up, so every job the command started in the
# background lives on, plain `cmd &` included (a non-interactive shell
# keeps it in its own process group, which is why it is the main process
# and not its group that is signalled); the command itself dies. Each job
# writes its PID to a file, and the test kills exactly those.
NOPTY_JOBS = {"nohup": "600", "setsid": "602", "disown": "604", "plain": "601"}
NOPTY_SCRIPT = """cd {d} || exit 1
nohup sleep 600 >/dev/null 2>&1 & echo $! > nohup
setsid sleep 602 >/dev/null 2>&1 </dev/null & echo $! > setsid
sleep 604 >/dev/null 2>&1 </dev/null & echo $! > disown; disown
sleep 601 >/dev/null 2>&1 </dev/null & echo $! > plain
echo $$ > main
printf 'READY-%s\\n' {t}
"""
KM_BASH_USER = "wbs-kmbash"


@pytest.fixture
def bash_user(keys):
    """A throw-away account with bash (for `disown`) whose dot files do
    nothing for a non-interactive shell, and a directory for PID files."""
    with throwaway_user(KM_BASH_USER, "SessionKillMode process without a pty") as name:
        subprocess.run(["usermod", "-s", "/bin/bash", name], check=True)
        home = os.path.expanduser(f"~{name}")
        ssh_dir, pid_dir = os.path.join(home, ".ssh"), os.path.join(home, "pids")
        os.makedirs(ssh_dir, mode=0o700)
        os.makedirs(pid_dir)
        ak = os.path.join(ssh_dir, "authorized_keys")
        shutil.copy(keys.user["ed25519"] + ".pub", ak)
        for path in (ssh_dir, ak, pid_dir):
            shutil.chown(path, name, name)
        yield name, pid_dir


def recorded_pids(pid_dir):
    """{job: pid} from the PID files the script wrote."""
    pids = {}
    for job in list(NOPTY_JOBS) + ["main"]:
        try:
            with open(os.path.join(pid_dir, job)) as f:
                pids[job] = int(f.read())
        except (OSError, ValueError):
            pass
    return pids


def is_sleep(pid, seconds):
    """pid is still the `sleep SECONDS` we started (not a zombie, not reused)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().split(b"\0")
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z" and cmd[:2] == [b"sleep", seconds.encode()]


def alive_jobs(pids, sleeps):
    return {job for job, pid in pids.items() if job in sleeps and is_sleep(pid, sleeps[job])}


def kill_recorded(pids, sleeps):
    for job, pid in pids.items():
        if job in sleeps and is_sleep(pid, sleeps[job]):
            kill_quietly(pid)


def test_process_mode_no_pty_client_vanishes(start_server, bash_user):
    """The client is SIGKILLed while `exec sleep 606` runs: that main
    process gets SIGHUP and dies; the nohup'd, setsid'd, disowned and plain
    background jobs all live on."""
    user, pid_dir = bash_user
    srv = start_server(["SessionKillMode=process"], authorized_keys=".ssh/authorized_keys")
    token = uuid.uuid4().hex[:12]
    sleeps = dict(NOPTY_JOBS, main="606")
    script = NOPTY_SCRIPT.format(d=pid_dir, t=token) + "exec sleep 606\n"
    proc = subprocess.Popen(ssh_argv(srv, script, user=user), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    pids = {}
    try:
        read_until(proc, rf"READY-{token}", 20)
        pids = recorded_pids(pid_dir)
        assert wait_for(lambda: alive_jobs(pids, sleeps) == set(sleeps), 10), \
            (pids, alive_jobs(pids, sleeps))
        mark = srv.mark()
        proc.kill()                          # the client vanishes
        proc.wait(timeout=5)
        m = srv.wait_log(r"session channel \d+ of \S+ ended: .*", since=mark, timeout=15)
        assert m, srv.log(mark)
        assert wait_for(lambda: "main" not in alive_jobs(pids, sleeps), 10), \
            f"the main process was not hung up: {m.group(0)}"
        time.sleep(0.5)                      # nothing kills the jobs late
        assert alive_jobs(pids, sleeps) == set(NOPTY_JOBS), m.group(0)
        assert "SessionKillMode process: " in m.group(0)
        assert " 1 signalled (SIGHUP)" in m.group(0), m.group(0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        kill_recorded(pids or recorded_pids(pid_dir), sleeps)
        srv.stop()


def test_process_mode_no_pty_normal_exit(start_server, bash_user):
    """The command exits by itself: nothing is signalled, every background
    job lives on, and the client is not held up by them (their output goes
    to /dev/null, so the channel's EOF is not waiting for them)."""
    user, pid_dir = bash_user
    srv = start_server(["SessionKillMode=process"], authorized_keys=".ssh/authorized_keys")
    token = uuid.uuid4().hex[:12]
    pids = {}
    try:
        mark = srv.mark()
        r = ssh(srv, NOPTY_SCRIPT.format(d=pid_dir, t=token) + "exit 0\n", user=user,
                timeout=30)
        pids = recorded_pids(pid_dir)
        assert r.returncode == 0, r.stderr
        assert f"READY-{token}".encode() in r.stdout
        m = srv.wait_log(r"session channel \d+ of \S+ ended: .*", since=mark, timeout=15)
        assert m, srv.log(mark)
        assert " 0 signalled" in m.group(0), m.group(0)
        time.sleep(0.5)
        assert alive_jobs(pids, NOPTY_JOBS) == set(NOPTY_JOBS), (pids, m.group(0))
    finally:
        kill_recorded(pids or recorded_pids(pid_dir), NOPTY_JOBS)
        srv.stop()


# ---------------------------------------------------------- Match User

KM_USER = "wombat-kmtest"


@pytest.fixture
def second_user(keys):
    with throwaway_user(KM_USER, "Match User with a second user"):
        # the test's key, readable by that user (the session's keys file is not)
        ssh_dir = os.path.expanduser(f"~{KM_USER}/.ssh")
        os.makedirs(ssh_dir, mode=0o700)
        ak = os.path.join(ssh_dir, "authorized_keys")
        with open(keys.user["ed25519"] + ".pub") as src, open(ak, "w") as dst:
            dst.write(src.read())
        for path in (ssh_dir, ak):
            shutil.chown(path, KM_USER, KM_USER)
        yield KM_USER


def test_match_user_chooses_the_mode(tmp_path, keys, cg_root, second_user):
    """One user gets control-group, another process (the global default)."""
    srv = start_wombatd(tmp_path, keys, [f"SessionCgroupRoot={cg_root}",
                                         "SessionKillTimeout=1"],
                        "SessionKillMode process\n"
                        f"Match User {USER}\n"
                        "    SessionKillMode control-group\n")
    try:
        results = {}
        for user in (USER, second_user):
            token, end_line = run_and_drop(srv, EXEC_SCRIPT, EXEC_ALL, pty=False,
                                           user=user)
            try:
                results[user] = (survivors_after(token, set() if user == USER
                                                 else PROCESS_EXEC, EXEC_ALL), end_line)
            finally:
                cleanup(token)
        assert results[USER][0] == set(), results
        assert "SessionKillMode control-group" in results[USER][1]
        assert results[second_user][0] == PROCESS_EXEC, results
        assert "SessionKillMode process" in results[second_user][1]
    finally:
        srv.stop()


# ------------------------------------------------------- start-up checks

def run_daemon(keys, tmp_path, opts, config_text=None, timeout=10):
    argv = server_argv("wombatd", free_port(), list(keys.host.values()),
                       keys.authorized_keys, opts)
    if config_text is not None:
        cfg = tmp_path / "startup.conf"
        cfg.write_text(config_text)
        argv[1:1] = ["-f", str(cfg)]
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def test_cgroup_modes_refuse_to_start_without_writable_cgroup(keys, tmp_path):
    not_cgroup = str(tmp_path)          # an ordinary directory
    for opts, conf in [(["SessionKillMode=control-group"], None),
                       (["SessionKillMode=mixed"], None),
                       ([], f"Match User {USER}\n    SessionKillMode control-group\n")]:
        r = run_daemon(keys, tmp_path, opts + [f"SessionCgroupRoot={not_cgroup}"], conf)
        assert r is not None, f"{opts} {conf}: wombatd started anyway"
        assert r.returncode != 0
        assert "needs a writable cgroup v2" in r.stderr, r.stderr
        assert "SessionKillFallback process-group" in r.stderr
    # -t says so too (ExecStartPre=wombatd -t in the unit)
    argv = [WOMBATD, "-t", "-h", keys.host["ed25519"], "-o", "SessionKillMode=mixed",
            "-o", f"SessionCgroupRoot={not_cgroup}"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    assert r.returncode != 0 and "needs a writable cgroup v2" in r.stderr


def test_fallback_process_group(start_server, tmp_path):
    """SessionKillFallback process-group: starts, and control-group then
    means the main process group (a setsid'd job escapes, as documented)."""
    srv = start_server(["SessionKillMode=control-group", "SessionKillTimeout=1",
                        "SessionKillFallback=process-group",
                        f"SessionCgroupRoot={tmp_path}"])
    try:
        token, end_line = run_and_drop(srv, EXEC_SCRIPT, EXEC_ALL, pty=False)
        try:
            assert survivors_after(token, {"setsid"}, EXEC_ALL) == {"setsid"}
        finally:
            cleanup(token)
        assert "process-group fallback" in end_line, end_line
    finally:
        srv.stop()


def test_leftovers_of_previous_run_are_reported(start_server, cg_root):
    """A session cgroup still populated after its daemon is gone is reported
    at the next start; empty ones are removed."""
    srv = start_server(["SessionKillMode=process", f"SessionCgroupRoot={cg_root}"])
    token = uuid.uuid4().hex[:12]
    try:
        r = ssh(srv, f"export WMARK={token}; setsid sleep 602 >/dev/null 2>&1 </dev/null &")
        assert r.returncode == 0
        assert wait_for(lambda: "setsid" in classify(marked(token)), 5)
        srv.stop()
        # The report is about cgroups whose connection process is gone: wait
        # (bounded) for the connection to finish ending after the client left.
        def connections_gone():
            for name in os.listdir(cg_root):
                m = re.match(rf"wombat-{re.escape(USER)}-(\d+)-ch", name)
                if m and os.path.exists(f"/proc/{m.group(1)}"):
                    return False
            return True
        assert wait_for(connections_gone, 10)
        empty = os.path.join(cg_root, "wombat-nobody-999999-ch3")   # dead connection
        os.mkdir(empty)
        srv2 = start_server(["SessionKillMode=process", f"SessionCgroupRoot={cg_root}"])
        try:
            m = srv2.wait_log(r"leftover session cgroup (\S+) from an earlier run: "
                              r"1 processes still running")
            assert m, srv2.log()
            assert m.group(1).startswith(os.path.join(cg_root, f"wombat-{USER}-"))
            assert not os.path.exists(empty)
        finally:
            srv2.stop()
    finally:
        cleanup(token)


# ------------------------------------------------------------- signals

def test_signal_request_terminates_remote_command(start_server, keys):
    """asyncssh sends `signal TERM` to a remote sleep: it dies, and
    exit-signal TERM comes back."""
    import asyncssh
    srv = start_server()
    token = uuid.uuid4().hex[:12]

    async def go():
        async with asyncssh.connect("127.0.0.1", port=srv.port, username=USER,
                                    known_hosts=None, client_keys=[keys.user["ed25519"]],
                                    agent_path=None) as conn:
            proc = await conn.create_process(f"export WMARK={token}; sleep 600")
            found = await asyncio.get_running_loop().run_in_executor(
                None, lambda: wait_for(lambda: classify(marked(token)), 10))
            assert found, "remote sleep did not start"
            proc.send_signal("TERM")
            await asyncio.wait_for(proc.wait_closed(), 10)
            return proc.exit_signal, proc.exit_status

    try:
        exit_signal, exit_status = asyncio.run(asyncio.wait_for(go(), 30))
        assert exit_signal is not None and exit_signal[0] == "TERM", (exit_signal, exit_status)
        assert wait_for(lambda: not marked(token), 5), "the remote sleep survived"
    finally:
        cleanup(token)
        srv.stop()


def test_signal_names_are_rfc_names(start_server, keys):
    """Names as RFC 4254 s6.10 spells them: "INT" works, "SIGINT" is refused."""
    import asyncssh
    srv = start_server()

    async def go():
        async with asyncssh.connect("127.0.0.1", port=srv.port, username=USER,
                                    known_hosts=None, client_keys=[keys.user["ed25519"]],
                                    agent_path=None) as conn:
            proc = await conn.create_process("sleep 600")
            await asyncio.sleep(0.3)
            proc.send_signal("SIGINT")    # not a name: ignored
            await asyncio.sleep(0.5)
            still = proc.exit_signal is None and proc.exit_status is None
            proc.send_signal("INT")
            await asyncio.wait_for(proc.wait_closed(), 10)
            return still, proc.exit_signal

    try:
        still, exit_signal = asyncio.run(asyncio.wait_for(go(), 30))
        assert still
        assert exit_signal and exit_signal[0] == "INT"
    finally:
        srv.stop()
