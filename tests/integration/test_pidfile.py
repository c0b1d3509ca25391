"""PidFile: wombatd started without -D detaches and writes the listener's
pid to its PidFile ("%d\\n"), and removes the file when SIGTERM stops it.
start-stop-daemon can then start and stop it by that file.
"""
import glob
import os
import signal
import subprocess
import time
from types import SimpleNamespace

import pytest

from conftest import (SERVER_KIND, WOMBATD, free_port, have, port_accepts, server_argv,
                      ssh)

pytestmark = pytest.mark.skipif(SERVER_KIND != "wombatd", reason="wombatd's PidFile")


def detached_argv(keys, port, log_path, pid_opt):
    """The tests' usual options (conftest.server_argv), but detaching (no -D),
    logging to a file (stderr is gone once detached) and with pid_opt in
    place of PidFile=none (the first -o value wins)."""
    argv = server_argv("wombatd", port, [keys.host["ed25519"]], keys.authorized_keys, [])
    argv.remove("-D")
    argv[argv.index("-e")] = "-E"
    argv.insert(argv.index("-E") + 1, str(log_path))
    argv[argv.index("PidFile=none")] = pid_opt
    return argv


def listening_inode(port):
    """Inode of the socket listening on 127.0.0.1:port (/proc/net/tcp)."""
    want = "0100007F:%04X" % port
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == want and fields[3] == "0A":   # 0A = LISTEN
                return fields[9]
    return None


def holds_socket(pid, inode):
    for fd in glob.glob(f"/proc/{pid}/fd/*"):
        try:
            if os.readlink(fd) == f"socket:[{inode}]":
                return True
        except OSError:
            pass
    return False


def running(pid):
    """pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def read_pid(path):
    with open(path) as f:
        text = f.read()
    assert text.endswith("\n") and text[:-1].isdigit(), f"PidFile holds {text!r}"
    return int(text)


def listener_pids(port):
    """Pids of the processes holding the socket listening on port."""
    inode = listening_inode(port)
    if not inode:
        return []
    return [int(d.split("/")[2]) for d in glob.glob("/proc/[0-9]*")
            if d.split("/")[2].isdigit() and holds_socket(d.split("/")[2], inode)]


@pytest.fixture
def cleanup():
    """Ports of detached daemons this test starts: whatever still listens on
    one at the end (a test failed half-way, or no PidFile was written) is
    killed by pid, with its process group (the connection children)."""
    ports = []
    yield ports
    for port in ports:
        for pid in listener_pids(port):
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def check_is_listener(pid, port, log_path):
    assert running(pid), f"pid {pid} from the PidFile is not running:\n{log_path.read_text()}"
    assert os.path.realpath(f"/proc/{pid}/exe") == os.path.realpath(WOMBATD)
    wait_for(lambda: port_accepts(port), 10, f"port {port}")
    inode = listening_inode(port)
    assert inode and holds_socket(pid, inode), \
        f"pid {pid} does not hold the socket listening on {port}"


def test_detached_daemon_writes_and_removes_pidfile(keys, tmp_path, cleanup):
    pidfile, log_path, port = tmp_path / "w.pid", tmp_path / "w.log", free_port()
    cleanup.append(port)
    starter = subprocess.Popen(detached_argv(keys, port, log_path, f"PidFile={pidfile}"),
                               stdin=subprocess.DEVNULL)
    assert starter.wait(timeout=30) == 0, "the starting process did not exit 0"
    wait_for(pidfile.exists, 10, f"{pidfile} to be written")
    pid = read_pid(pidfile)
    assert pid != starter.pid, "PidFile holds the parent that exited, not the listener"
    check_is_listener(pid, port, log_path)
    r = ssh(SimpleNamespace(port=port), "echo", "hi")
    assert r.returncode == 0 and r.stdout == b"hi\n", r.stderr

    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not running(pid), 10, f"pid {pid} to exit on SIGTERM")
    assert not pidfile.exists(), "PidFile left behind after SIGTERM"
    assert not port_accepts(port)


def test_pidfile_none_writes_nothing(keys, tmp_path, cleanup):
    # PidFile=none comes first on the command line, so it wins over the file.
    pidfile, log_path, port = tmp_path / "w.pid", tmp_path / "w.log", free_port()
    cleanup.append(port)
    conf = tmp_path / "sshd_config"
    conf.write_text(f"PidFile {pidfile}\n")
    argv = detached_argv(keys, port, log_path, "PidFile=none") + ["-f", str(conf)]
    assert subprocess.run(argv, stdin=subprocess.DEVNULL, timeout=30).returncode == 0
    wait_for(lambda: listening_inode(port), 10, f"port {port}")
    pids = listener_pids(port)
    assert len(pids) == 1, pids
    time.sleep(0.5)   # the file would have been written right after detaching
    assert not pidfile.exists()
    os.kill(pids[0], signal.SIGTERM)
    wait_for(lambda: not running(pids[0]), 10, "the daemon to exit")


def test_config_file_pidfile_is_used(keys, tmp_path, cleanup):
    """PidFile from sshd_config (not only -o)."""
    pidfile, log_path, port = tmp_path / "c.pid", tmp_path / "w.log", free_port()
    cleanup.append(port)
    conf = tmp_path / "sshd_config"
    conf.write_text(f"PidFile {pidfile}\n")
    argv = detached_argv(keys, port, log_path, "LogLevel=DEBUG1") + ["-f", str(conf)]
    assert subprocess.run(argv, stdin=subprocess.DEVNULL, timeout=30).returncode == 0
    wait_for(pidfile.exists, 10, f"{pidfile} to be written")
    pid = read_pid(pidfile)
    check_is_listener(pid, port, log_path)
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not running(pid), 10, f"pid {pid} to exit")
    assert not pidfile.exists()


@pytest.mark.skipif(not have("start-stop-daemon"), reason="start-stop-daemon not installed")
def test_start_stop_daemon(keys, tmp_path, cleanup):
    pidfile, log_path, port = tmp_path / "s.pid", tmp_path / "w.log", free_port()
    cleanup.append(port)
    argv = detached_argv(keys, port, log_path, f"PidFile={pidfile}")
    ssd = ["start-stop-daemon", "--pidfile", str(pidfile), "--exec", WOMBATD]
    r = subprocess.run(ssd + ["--start", "--"] + argv[1:], capture_output=True, text=True,
                       timeout=30, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stdout + r.stderr
    wait_for(pidfile.exists, 10, f"{pidfile} to be written")
    pid = read_pid(pidfile)
    check_is_listener(pid, port, log_path)
    # a second --start sees it running through the PidFile
    r = subprocess.run(ssd + ["--start", "--"] + argv[1:], capture_output=True, text=True,
                       timeout=30, stdin=subprocess.DEVNULL)
    assert r.returncode == 1 and "already running" in r.stdout + r.stderr, r
    r = subprocess.run(ssd + ["--stop", "--retry", "TERM/10"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    # start-stop-daemon counts the daemon gone once /proc/PID/exe is, which
    # is a moment before the exiting process is a zombie (long enough to see
    # with the ASan build's large address space to tear down)
    wait_for(lambda: not running(pid), 5, f"pid {pid} to exit")
    assert not pidfile.exists()
