"""ControlMaster: one multiplexed client killed (SIGKILL of the `ssh` mux
client process) while its remote job runs. The master then ends that
session's channel (EOF and CLOSE); the other sessions on the master carry
on untouched, and the killed client's remote job follows SessionKillMode:
with `process` (the default) its main process is hung up and dies, with
`none` it lives on. Real OpenSSH ssh -M / -S.
"""
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import SERVER_KIND, USER
from test_forwarding import ctl_argv, start_master

pytestmark = pytest.mark.skipif(SERVER_KIND != "wombatd",
                                reason="SessionKillMode is wombat's own option")


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


def wait_for(predicate, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def read_line(proc, pattern, timeout):
    """The first line of proc's stdout matching pattern (a bound, not a
    speed check)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(pattern, line.decode(errors="replace"))
        if m:
            return m
    raise AssertionError(f"no line matching {pattern!r}")


@pytest.mark.parametrize("mode", [None, "none"])
def test_killed_mux_client(start_server, mode):
    srv = start_server([f"SessionKillMode={mode}"] if mode else [])
    ctl = f"/tmp/wfm-mux-{os.getpid()}-{mode}"
    master = start_master(srv, ctl)
    victim_pid = None
    try:
        # the one to be killed: its job reports its PID, then is `sleep 613`
        victim = subprocess.Popen(ctl_argv(srv, ctl) + ["echo job=$$; exec sleep 613"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)
        others = [subprocess.Popen(ctl_argv(srv, ctl) +
                                   [f"echo start-{i}; sleep 4; echo end-{i}"],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE) for i in range(3)]
        victim_pid = int(read_line(victim, r"job=(\d+)", 30).group(1))
        assert wait_for(lambda: is_sleep(victim_pid, "613"), 10)
        mark = srv.mark()
        victim.send_signal(signal.SIGKILL)    # the mux client only, not the master
        victim.wait(timeout=10)
        ended = srv.wait_log(rf"session channel \d+ of {USER} ended: .*", mark, timeout=20)
        assert ended, srv.log(mark)
        if mode is None:
            assert "SessionKillMode process: " in ended.group(0), ended.group(0)
            assert wait_for(lambda: not is_sleep(victim_pid, "613"), 10), \
                f"the killed client's job still runs: {ended.group(0)}"
        else:
            assert "SessionKillMode none" in ended.group(0), ended.group(0)
            time.sleep(1)                     # nothing kills it late either
            assert is_sleep(victim_pid, "613"), ended.group(0)
        # the other sessions on the master ran to their end, untouched
        for i, p in enumerate(others):
            out, err = p.communicate(timeout=60)
            assert p.returncode == 0 and out == f"start-{i}\nend-{i}\n".encode(), \
                (i, out, err)
        assert master.poll() is None
        r = subprocess.run(ctl_argv(srv, ctl) + ["echo after"], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30)
        assert r.stdout == b"after\n", r
    finally:
        if victim_pid and is_sleep(victim_pid, "613"):
            os.kill(victim_pid, signal.SIGKILL)
        subprocess.run(ctl_argv(srv, ctl, "-O", "exit"), capture_output=True, timeout=30)
        try:
            master.wait(timeout=15)
        except subprocess.TimeoutExpired:
            master.kill()
        srv.stop()
