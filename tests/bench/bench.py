#!/usr/bin/python3
"""wombatd against OpenSSH sshd, dropbear and tinysshd on this machine, in one run.

Measures login latency, throughput per cipher, `ssh -L` forwarding
throughput (to a loopback sink), memory per session and binary size, and reports ratios (wombatd/sshd, wombatd/dropbear). Nothing
here asserts a speed: the numbers are for reading, not for passing.

Two more columns join the login rows (latency, server CPU per login) and
the chacha20-poly1305 transfers: tinysshd, which is inetd-style, and
wombatd -i (inetd mode). Each runs under systemd-socket-activate --inetd -a,
which the bench starts: one server process per connection, with the socket
as stdin/stdout; the CPU per login is the launcher's reaped children, as for
the listeners of the others.

Needs root: all three servers run as root on 127.0.0.1, and the client logs
in as a throw-away user (created with useradd, removed at the end) whose
~/.ssh/authorized_keys holds a fresh key — dropbear reads only that file.

    /usr/bin/python3 tests/bench/bench.py [--reps N] [--size MiB] [--json FILE]
                                          [--only forwarding|login|memory]
"""
import argparse
import json
import os
import platform
import pwd
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
WOMBATD = os.path.join(REPO, "wombatd")
SSHD = "/usr/sbin/sshd"
DROPBEAR = "/usr/sbin/dropbear"
DROPBEARCONVERT = "/usr/bin/dropbearconvert"
SSH = "/usr/bin/ssh"
SSH_KEYGEN = "/usr/bin/ssh-keygen"
TINYSSHD = "/usr/sbin/tinysshd"
TINYSSHD_MAKEKEY = "/usr/sbin/tinysshd-makekey"
SOCKET_ACTIVATE = "/usr/bin/systemd-socket-activate"
SERVERS = ["wombatd", "sshd", "dropbear"]
# Started per connection by a launcher: only in the login rows and the
# chacha20-poly1305 transfers (tinysshd's only cipher).
INETD_SERVERS = ["tinysshd", "wombatd -i"]
COLUMNS = SERVERS + INETD_SERVERS

# (label, cipher, mac or None). The MAC only matters for non-AEAD ciphers.
CIPHERS = [
    ("chacha20-poly1305", "chacha20-poly1305@openssh.com", None),
    ("aes128-gcm", "aes128-gcm@openssh.com", None),
    ("aes256-gcm", "aes256-gcm@openssh.com", None),
    ("aes128-ctr+hmac-sha2-256-etm", "aes128-ctr", "hmac-sha2-256-etm@openssh.com"),
    # dropbear 2022.83 has no -etm MACs: this row is the one it can join.
    ("aes128-ctr+hmac-sha2-256", "aes128-ctr", "hmac-sha2-256"),
]
# Same key exchange and session cipher for every login so the latency
# compares servers, not negotiation outcomes (sshd 9.2 would otherwise pick
# sntrup761x25519, which costs more than curve25519).
LOGIN_HOSTKEY_CIPHER = ["-o", "HostKeyAlgorithms=ssh-ed25519",
                        "-c", "chacha20-poly1305@openssh.com"]
LOGIN_OPTS = ["-o", "KexAlgorithms=curve25519-sha256"] + LOGIN_HOSTKEY_CIPHER


# ------------------------------------------------------------------ helpers

def run(argv, **kw):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw)


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


def median(xs):
    return statistics.median(xs) if xs else None


def proc_status_kib(pid, field):
    """A 'kB' field of /proc/PID/status (VmRSS), or None if gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def proc_pss_kib(pid):
    """Pss from /proc/PID/smaps_rollup (Linux >= 4.14), or None."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def proc_exe(pid):
    try:
        return os.path.realpath(f"/proc/{pid}/exe")
    except OSError:
        return None


def parent_map():
    """pid -> ppid for every process now."""
    parents = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The comm field may hold spaces and parentheses: split after the last ')'.
        fields = stat[stat.rindex(")") + 2:].split()
        parents[int(name)] = int(fields[1])
    return parents


def descendants(pid):
    parents = parent_map()
    found, frontier = [], [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        found += kids
        frontier += kids
    return found


# ------------------------------------------------------------- environment

class BenchUser:
    """A throw-away login user with its own authorized_keys; removed at close."""

    def __init__(self, pubkey, prefix="wbench"):
        self.name = prefix + secrets.token_hex(3)
        run(["useradd", "-m", "-s", "/bin/sh", self.name])
        # '!' (locked) makes sshd refuse even a key login without PAM.
        run(["usermod", "-p", "*", self.name])
        pw = pwd.getpwnam(self.name)
        self.home = pw.pw_dir
        sshdir = os.path.join(self.home, ".ssh")
        os.makedirs(sshdir, mode=0o700, exist_ok=True)
        ak = os.path.join(sshdir, "authorized_keys")
        with open(ak, "w") as f:
            f.write(pubkey)
        os.chmod(ak, 0o600)
        for path in (sshdir, ak):
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def close(self):
        r = subprocess.run(["userdel", "-r", self.name], capture_output=True, text=True)
        if r.returncode != 0:
            subprocess.run(["userdel", "-r", "-f", self.name], capture_output=True)


class Server:
    """One server on a free loopback port, stopped by its own PID."""

    def __init__(self, kind, binary, workdir, hostkey, dropbear_key, tinyssh_keys=None):
        self.kind = kind
        self.binary = os.path.realpath(binary)
        self.port = free_port()
        self.log_path = os.path.join(workdir, f"{kind.replace(' ', '')}.log")
        # inetd-style: the launcher accepts, runs one server per connection
        # (the socket as stdin/stdout) and reaps it
        inetd = [SOCKET_ACTIVATE, "--inetd", "-a", "-l", f"127.0.0.1:{self.port}"]
        if kind == "tinysshd":
            self.argv = inetd + [binary, tinyssh_keys]
        elif kind == "wombatd -i":
            self.argv = inetd + [binary, "-i", "-e", "-f", "/dev/null", "-h", hostkey,
                                 "-o", "PidFile=none"]
        elif kind == "wombatd":
            self.argv = [binary, "-D", "-e", "-f", "/dev/null", "-p", str(self.port),
                         "-h", hostkey, "-o", "ListenAddress=127.0.0.1",
                         "-o", "PidFile=none"]
        elif kind == "sshd":
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
            self.argv = [binary, "-D", "-e", "-f", "/dev/null", "-p", str(self.port),
                         "-h", hostkey, "-o", "ListenAddress=127.0.0.1",
                         "-o", "PidFile=none"]
        else:
            self.argv = [binary, "-F", "-E", "-p", f"127.0.0.1:{self.port}",
                         "-r", dropbear_key, "-P", os.path.join(workdir, "dropbear.pid")]
        self.proc = None

    @property
    def pid(self):
        return self.proc.pid

    def start(self, timeout=10):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited before listening; see {self.log_path}")
            if port_accepts(self.port):
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.kind} did not listen within {timeout}s")

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        # Session processes stay in the listener's process group.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._log.close()
        self.proc = None


def ssh_argv(server, user, key, *cmd, opts=()):
    return [SSH, "-F", "/dev/null", "-p", str(server.port), "-i", key,
            "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "ControlMaster=no", "-o", "ControlPath=none",
            "-o", "Compression=no", "-o", "ConnectTimeout=10",
            *opts, "-l", user, "127.0.0.1", *cmd]


def children_cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(argv, stdin=subprocess.DEVNULL, timeout=120, client_cpu=None):
    """Wall time of argv; None if it failed. client_cpu, a list, gets
    argv's own CPU seconds appended (the children this process reaped
    meanwhile: argv alone, as nothing else is reaped during the run)."""
    cpu0 = children_cpu_seconds()
    t0 = time.perf_counter()
    r = subprocess.run(argv, stdin=stdin, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=timeout)
    dt = time.perf_counter() - t0
    if client_cpu is not None:
        client_cpu.append(children_cpu_seconds() - cpu0)
    return dt if r.returncode == 0 else None


def rotated(items, k):
    """items rotated by k: each repetition starts with a different server."""
    k %= len(items)
    return items[k:] + items[:k]


# -------------------------------------------------------------- measurements

def measure_latency(servers, user, key, reps):
    """Median wall time of a full login running `true`, and of the handshake
    alone (key exchange, then the 'none' auth attempt rejected). Both include
    the ssh client's own start-up, the same for every server."""
    out = {s.kind: {"login": [], "handshake": []} for s in servers}
    nokey = ["-o", "PubkeyAuthentication=no", "-o", "PasswordAuthentication=no",
             "-o", "KbdInteractiveAuthentication=no"]
    for rep in range(reps):
        for s in rotated(servers, rep):
            t = timed(ssh_argv(s, user, key, "true", opts=LOGIN_OPTS))
            if t is not None:
                out[s.kind]["login"].append(t)
            # Exits 255 (permission denied) by design: time it regardless.
            t0 = time.perf_counter()
            subprocess.run(ssh_argv(s, user, key, "true", opts=LOGIN_OPTS + nokey),
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)
            out[s.kind]["handshake"].append(time.perf_counter() - t0)
    return out


# The post-quantum hybrid every OpenSSH client since 9.0 offers first; the
# servers that do not know it (dropbear 2022.83) get no figure for it.
PQ_KEX = "sntrup761x25519-sha512@openssh.com"


def children_cpu_s(pid):
    """CPU seconds (user + system) of the reaped children of pid: the
    connection processes a listener has waited for, with their own
    reaped descendants (/proc/PID/stat fields 16 and 17)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def measure_login_cpu(servers, user, key, reps):
    """Server CPU per login (`ssh true`) and the login's median wall time,
    for curve25519 and for the post-quantum hybrid, per server. The CPU is
    the listener's reaped-children total over `reps` logins, divided."""
    out = {}
    for kex in ("curve25519-sha256", PQ_KEX):
        opts = ["-o", f"KexAlgorithms={kex}"] + LOGIN_HOSTKEY_CIPHER
        for s in servers:
            before = children_cpu_s(s.pid)
            walls = [timed(ssh_argv(s, user, key, "true", opts=opts)) for _ in range(reps)]
            time.sleep(1.0)     # let the listener reap the last connection
            ok = [w for w in walls if w is not None]
            cpu = (children_cpu_s(s.pid) - before) / len(ok) if ok else None
            out.setdefault(kex, {})[s.kind] = {"login": median(ok) if ok else None,
                                               "cpu_s": cpu}
    return out


def cipher_opts(cipher, mac):
    opts = ["-o", "KexAlgorithms=curve25519-sha256", "-c", cipher]
    return opts + (["-m", mac] if mac else [])


def supports(server, user, key, cipher, mac):
    """None if a login with cipher/mac works, else the client's complaint
    (dropbear 2022.83 as Debian builds it lacks AES-GCM and -etm MACs)."""
    argv = ssh_argv(server, user, key, "true", opts=cipher_opts(cipher, mac))
    # "Unable to negotiate" is an INFO message for the client.
    argv = ["LogLevel=INFO" if a == "LogLevel=ERROR" else a for a in argv]
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=30)
    if r.returncode == 0:
        return None
    return (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1]


# The upload's sink. `cat > /dev/null` reads through the 64 KiB pipe every
# server gives its child; when the sink falls behind (client, server and sink
# share 2 CPUs here) the server holds up to a channel window (2 MiB) of
# input, and OpenSSH's sshd moves that whole backlog in memory (perf: 57% of
# its time in memmove, none in the cipher) for every pipe-sized write: its
# upload figure then measured the sink's scheduling (20-150 MiB/s from run to
# run, against 300+ down). This sink widens its pipe to 1 MiB (F_SETPIPE_SZ,
# the unprivileged maximum; a socket stdin keeps its size) and reads 1 MiB at
# a time, so no server waits on it; its start-up is timed alone
# (sink_startup) and subtracted instead of the login.
UPLOAD_SINK = ("exec /usr/bin/python3 -S -c 'import fcntl, os\n"
               "try: fcntl.fcntl(0, 1031, 1 << 20)\n"
               "except OSError: pass\n"
               "while os.read(0, 1 << 20): pass'")


def transfer(server, user, key, cipher, mac, size_mib, direction, client_cpu=None,
             upload_file=None):
    """Seconds to move size_mib MiB through one session, or None on failure;
    the ssh client's CPU seconds are appended to client_cpu (a list).
    direction "upfile" uploads upload_file (size_mib MiB) as the client's
    stdin, as scp and sftp read a file; "up" pipes `head -c` into it."""
    opts = cipher_opts(cipher, mac)
    if direction == "down":
        return timed(ssh_argv(server, user, key, f"head -c {size_mib}M /dev/zero",
                              opts=opts), client_cpu=client_cpu)
    if size_mib == 0:
        return timed(ssh_argv(server, user, key, UPLOAD_SINK, opts=opts),
                     client_cpu=client_cpu)
    if direction == "upfile":
        with open(upload_file, "rb") as f:
            return timed(ssh_argv(server, user, key, UPLOAD_SINK, opts=opts),
                         stdin=f, client_cpu=client_cpu)
    src = subprocess.Popen(["head", "-c", f"{size_mib}M", "/dev/zero"],
                           stdout=subprocess.PIPE)
    try:
        return timed(ssh_argv(server, user, key, UPLOAD_SINK, opts=opts),
                     stdin=src.stdout, client_cpu=client_cpu)
    finally:
        src.stdout.close()
        src.wait()


def sink_startup(servers, user, key, reps):
    """Per server, the median wall time of an empty upload: the login plus
    the sink's start-up, subtracted from the upload times; and the ssh
    client's median CPU for it (its login), subtracted from the client's
    CPU for each transfer."""
    out, client = {}, {}
    for s in servers:
        cpu = []
        ts = [transfer(s, user, key, CIPHERS[0][1], CIPHERS[0][2], 0, "up", cpu)
              for _ in range(reps)]
        out[s.kind] = median([t for t in ts if t is not None])
        client[s.kind] = median(cpu)
    return out, client


def own_cpu_ticks(pid):
    """A process's own user + system time in clock ticks, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])


class ServerCpu:
    """The CPU the server's own processes spend while a transfer runs:
    every SAMPLE_S the listener's descendants whose executable is the
    server's (not the user's command) are read, and each one's highest own
    user + system time is kept, less what it had when sampling began. The
    final slice of a process that exits between two samples is missed (at
    most SAMPLE_S each); reaped children are not counted twice, because
    only a process's own time is read. sshd's session process is not reaped
    by its listener, so the listener's reaped-children total would miss it."""
    SAMPLE_S = 0.01
    RESCAN_EVERY = 5

    def __init__(self, server):
        self.server = server
        self.stop_event = threading.Event()
        self.start_ticks = {}
        self.max_ticks = {}
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _server_pids(self):
        return [p for p in descendants(self.server.pid) if proc_exe(p) == self.server.binary]

    def _run(self):
        pids, n = [], 0
        while not self.stop_event.is_set():
            if n % self.RESCAN_EVERY == 0:
                pids = self._server_pids()
            n += 1
            for p in pids:
                t = own_cpu_ticks(p)
                if t is not None and t > self.max_ticks.get(p, -1):
                    self.max_ticks[p] = t
            self.stop_event.wait(self.SAMPLE_S)

    def __enter__(self):
        for p in self._server_pids():
            t = own_cpu_ticks(p)
            if t is not None:
                self.start_ticks[p] = t
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.thread.join()

    def seconds(self):
        ticks = sum(t - self.start_ticks.get(p, 0) for p, t in self.max_ticks.items())
        return ticks / os.sysconf("SC_CLK_TCK")


def make_upload_file(workdir, size_mib):
    """A file of size_mib MiB of zeros (the bytes `head -c` sends); the
    pages just written stay in the page cache for every upload."""
    path = os.path.join(workdir, "upload.bin")
    chunk = bytes(1 << 20)
    with open(path, "wb") as f:
        for _ in range(size_mib):
            f.write(chunk)
    return path


def measure_throughput(servers, user, key, reps, size_mib, login_median,
                       login_cpu=None, upload_file=None):
    """MiB/s per cipher and direction. The login time (median from the
    latency run) is subtracted so the figure is the transfer alone; so is
    the login's server CPU (login_cpu, the curve25519 row) from the
    server's CPU for the transfer, given as seconds per GiB. The first
    cipher's upload is measured twice: through a pipe from `head -c` (as
    every cipher's) and, with upload_file, with that file as the client's
    stdin ("upfile"): a file is what scp and sftp upload, and it takes
    `head` (a fourth process on two CPUs, writing 8 and 4 KiB at a time)
    out of the measurement."""
    out = {}
    up_base, client_base = sink_startup(servers, user, key, reps)
    for label, cipher, mac in CIPHERS:
        out[label] = {s.kind: {"up": None, "down": None, "raw_seconds": {}} for s in servers}
        able = []
        for s in servers:
            if s.kind in INETD_SERVERS and cipher != "chacha20-poly1305@openssh.com":
                continue        # tinysshd's only cipher; and the time it takes
            why = supports(s, user, key, cipher, mac)
            if why is None:
                able.append(s)
            else:
                out[label][s.kind]["unsupported"] = why
        directions = ("down", "up")
        if upload_file and label == CIPHERS[0][0]:
            directions += ("upfile",)
        for direction in directions:
            times = {s.kind: [] for s in able}
            cpus = {s.kind: [] for s in able}
            client_cpus = {s.kind: [] for s in able}
            for rep in range(reps):
                for s in rotated(able, rep):
                    with ServerCpu(s) as cpu:
                        t = transfer(s, user, key, cipher, mac, size_mib, direction,
                                     client_cpus[s.kind], upload_file)
                        time.sleep(0.05)    # the connection's last samples
                    if t is not None:
                        times[s.kind].append(t)
                        cpus[s.kind].append(cpu.seconds())
            for s in able:
                out[label][s.kind]["raw_seconds"][direction] = times[s.kind]
                out[label][s.kind].setdefault("raw_cpu_s", {})[direction] = cpus[s.kind]
                t = median(times[s.kind])
                if t is not None:
                    base = login_median if direction == "down" else up_base
                    net = max(t - (base.get(s.kind) or 0), 1e-6)
                    out[label][s.kind][direction] = size_mib / net
                c = median(cpus[s.kind])
                if c is not None:
                    login_c = ((login_cpu or {}).get(s.kind) or {}).get("cpu_s") or 0
                    out[label][s.kind][f"cpu_gib_{direction}"] = \
                        max(c - login_c, 0) * 1024 / size_mib
                c = median(client_cpus[s.kind])
                if c is not None:
                    out[label][s.kind][f"client_cpu_gib_{direction}"] = \
                        max(c - (client_base.get(s.kind) or 0), 0) * 1024 / size_mib
        print(f"  {label}: done", file=sys.stderr)
    return out


class Sink:
    """A loopback TCP server that reads each connection to EOF, then closes
    it: the far end of an `ssh -L` forward. Runs in a thread."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.received = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                while True:
                    data = conn.recv(1 << 18)
                    if not data:
                        break
                    self.received += len(data)

    def close(self):
        self.sock.close()


def wait_port(port, proc, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if port_accepts(port):
            return True
        time.sleep(0.05)
    return False


def push_through(port, size_mib, sink):
    """Seconds to send size_mib MiB into port and see the far end close
    after it: the sink closes once it has read our EOF, and that close
    comes back through the tunnel. None when bytes went missing."""
    chunk = b"\0" * (1 << 18)
    total = size_mib << 20
    before = sink.received
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=120) as s:
        sent = 0
        while sent < total:
            s.sendall(chunk)
            sent += len(chunk)
        s.shutdown(socket.SHUT_WR)
        while s.recv(1 << 16):
            pass
    dt = time.perf_counter() - t0
    return dt if sink.received - before == total else None


def tree_cpu_s(pid):
    """CPU seconds (user + system, with their reaped children) of the live
    processes under pid: a connection's server processes while it lasts."""
    total = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def measure_forwarding(servers, user, key, reps, size_mib):
    """MiB/s of size_mib MiB through `ssh -N -L` to a loopback sink, per
    server (the login is done before the clock starts), with the session
    cipher fixed to chacha20-poly1305 for all; and the CPU the server's
    processes spent on the transfer (less at the mercy of load than the
    wall time)."""
    sink = Sink()
    out = {s.kind: {"mib_s": None, "raw_seconds": [], "cpu_s": []} for s in servers}
    try:
        for rep in range(reps):
            for s in rotated(servers, rep):
                lport = free_port()
                argv = ssh_argv(s, user, key, opts=LOGIN_OPTS + [
                    "-N", "-o", "ExitOnForwardFailure=yes",
                    "-L", f"127.0.0.1:{lport}:127.0.0.1:{sink.port}"])
                client = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL,
                                          stderr=subprocess.PIPE)
                try:
                    if not wait_port(lport, client):
                        out[s.kind]["error"] = "ssh -L did not listen"
                        continue
                    cpu_before = tree_cpu_s(s.pid)
                    t = push_through(lport, size_mib, sink)
                    if t is not None:
                        out[s.kind]["raw_seconds"].append(t)
                        out[s.kind]["cpu_s"].append(tree_cpu_s(s.pid) - cpu_before)
                finally:
                    client.terminate()
                    try:
                        client.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        client.kill()
                        client.wait()
    finally:
        sink.close()
    for s in servers:
        t = median(out[s.kind]["raw_seconds"])
        if t:
            out[s.kind]["mib_s"] = size_mib / t
    return out


def server_processes(server, exclude=()):
    """Descendants of the listener that run the server binary (not the
    user's command or shell)."""
    return [p for p in descendants(server.pid)
            if p not in exclude and proc_exe(p) == server.binary]


def proc_rollup_kib(pid, fields):
    """The sum of the named kB fields of /proc/PID/smaps_rollup, or None."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            return sum(int(line.split()[1]) for line in f
                       if line.split(":")[0] in fields)
    except OSError:
        return None


# Idle sessions held at once for the memory rows. PSS splits a page among
# the processes that map it, so one session alone would carry, whole, every
# page it shares only with its listener or with whatever else happens to run
# on the machine (other servers using libtomcrypt); with several sessions
# held the figure approaches what one more session costs, and is the same
# experiment for every server.
MEM_SESSIONS = 10
# wombatd gives its buffers and stack back after 500 ms without traffic
# (conn.c, trim_memory); every server gets the same wait after its last login.
IDLE_SETTLE_S = 1.5


def open_idle_sessions(server, user, key, n, workdir):
    """n `ssh -N` clients, logged in one after another (dropbear refuses a
    sixth unauthenticated connection from one address): each waits for its
    LocalCommand, which OpenSSH runs after authentication, to touch its
    marker file. Returns the client processes; raises if a login does not
    finish within 30 s."""
    clients = []
    env = dict(os.environ, SHELL="/bin/sh")   # LocalCommand's shell: no rc files
    for i in range(n):
        marker = os.path.join(workdir, f"idle-{server.kind}-{i}")
        argv = ssh_argv(server, user, key, opts=LOGIN_OPTS + [
            "-N", "-o", "PermitLocalCommand=yes",
            "-o", f"LocalCommand=/usr/bin/touch {marker}"])
        clients.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL, env=env,
                                        stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 30
        while not os.path.exists(marker):
            if time.monotonic() > deadline or clients[-1].poll() is not None:
                close_clients(clients)
                raise RuntimeError(f"{server.kind}: an idle ssh -N session did not log in")
            time.sleep(0.02)
    return clients


def close_clients(clients):
    for c in clients:
        c.terminate()
    for c in clients:
        try:
            c.wait(timeout=5)
        except subprocess.TimeoutExpired:
            c.kill()
            c.wait()


def measure_memory(server, user, key, workdir, sessions=MEM_SESSIONS):
    """Memory per idle authenticated session (`ssh -N`: no channel, no user
    process), from `sessions` of them held at once after IDLE_SETTLE_S of
    quiet: the server processes' PSS, private pages (Private_Clean +
    Private_Dirty: what the system gets back when the session ends, whatever
    else runs) and RSS, each summed and divided by the session count; and
    the listener's."""
    before = set(server_processes(server))
    clients = open_idle_sessions(server, user, key, sessions, workdir)
    try:
        time.sleep(IDLE_SETTLE_S)
        procs = server_processes(server, exclude=before)
        pss = [proc_pss_kib(p) for p in procs]
        private = [proc_rollup_kib(p, ("Private_Clean", "Private_Dirty")) for p in procs]
        result = {
            "sessions": sessions,
            "listener_rss_kib": proc_status_kib(server.pid, "VmRSS"),
            "listener_pss_kib": proc_pss_kib(server.pid),
            "session_processes": len(procs) / sessions,
            "session_rss_kib": sum(proc_status_kib(p, "VmRSS") or 0 for p in procs) / sessions,
            "session_pss_kib": None,
            "session_private_kib": None,
        }
        if procs and all(x is not None for x in pss + private):
            result["session_pss_kib"] = sum(pss) / sessions
            result["session_private_kib"] = sum(private) / sessions
    finally:
        close_clients(clients)
    return result


def size_info(binary, workdir):
    """File size, stripped size, text/data/bss (binutils size) and the
    shared libraries it needs beyond libc."""
    info = {"path": binary, "file_bytes": os.path.getsize(binary)}
    if shutil.which("strip"):
        tmp = os.path.join(workdir, "stripped-" + os.path.basename(binary))
        if subprocess.run(["strip", "-o", tmp, binary], capture_output=True).returncode == 0:
            info["stripped_bytes"] = os.path.getsize(tmp)
            os.unlink(tmp)
    if shutil.which("size"):
        r = subprocess.run(["size", binary], capture_output=True, text=True)
        lines = r.stdout.splitlines()
        if r.returncode == 0 and len(lines) >= 2:
            text, data, bss = (int(x) for x in lines[1].split()[:3])
            info.update(text=text, data=data, bss=bss)
    r = subprocess.run(["ldd", binary], capture_output=True, text=True)
    libs = []
    for line in r.stdout.splitlines():
        m = re.match(r"\s*(\S+) => (/\S+)", line)
        if m and not re.match(r"lib(c|m|dl|pthread)\.so", m.group(1)):
            libs.append((m.group(1), os.path.getsize(os.path.realpath(m.group(2)))))
    info["shared_libs"] = [name for name, _ in libs]
    info["shared_libs_bytes"] = sum(sz for _, sz in libs)
    info["static"] = "statically linked" in r.stdout or "not a dynamic" in r.stdout
    return info


def static_wombatd():
    """Path of a wombatd built with ./configure --enable-static, if any:
    the tree's own wombatd when configured so, or $WOMBAT_STATIC."""
    env = os.environ.get("WOMBAT_STATIC")
    if env and os.access(env, os.X_OK):
        return env
    try:
        with open(os.path.join(REPO, "Makefile")) as f:
            if re.search(r"^STATIC_LDFLAGS\s*=\s*-static", f.read(), re.M):
                return WOMBATD
    except OSError:
        pass
    return None


def versions():
    v = {}
    r = subprocess.run([SSHD, "-V"], capture_output=True, text=True)
    v["sshd"] = (r.stderr or r.stdout).strip().splitlines()[0]
    r = subprocess.run([DROPBEAR, "-V"], capture_output=True, text=True)
    v["dropbear"] = (r.stderr or r.stdout).strip().splitlines()[0]
    r = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"],
                       capture_output=True, text=True)
    v["wombatd"] = "git " + r.stdout.strip() if r.returncode == 0 else "unknown"
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\n",
                        "openssh-server", "dropbear-bin", "openssh-client", "tinysshd"],
                       capture_output=True, text=True)
    v["packages"] = r.stdout.strip().splitlines()
    tiny = [p for p in v["packages"] if p.startswith("tinysshd ")]
    if tiny:
        v["tinysshd"] = tiny[0]
    return v


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            model = m.group(1) if m else ""
    except OSError:
        pass
    return {"cpu": model, "cpus": os.cpu_count(), "kernel": platform.release()}


# ------------------------------------------------------------------ report

def ratio(a, b):
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}"


def fmt(x, unit):
    if x is None:
        return "n/a"
    if unit == "ms":
        return f"{x * 1000:.1f}"
    if unit == "MiB/s":
        return f"{x:.0f}"
    if unit == "s":
        return f"{x:.2f}"
    if unit == "KiB":
        return f"{x:.0f}"
    return f"{x}"


def table_rows(res):
    rows = []
    lat = res.get("latency", {})
    for what, key in (("login (ssh true), ms", "login"),
                      ("handshake only (auth none), ms", "handshake")):
        if not lat:
            break
        vals = [median(lat[k][key]) if k in lat else None for k in COLUMNS]
        rows.append((what, [fmt(v, "ms") for v in vals], vals, "lower"))
    for label, per in res.get("throughput", {}).items():
        for direction, arrow in (("down", "server->client"), ("up", "client->server"),
                                 ("upfile", "client->server, stdin a file")):
            if not any(direction in per[k] for k in per):
                continue
            vals = [per[k].get(direction) if k in per else None for k in COLUMNS]
            rows.append((f"{label} {arrow}, MiB/s", [fmt(v, "MiB/s") for v in vals],
                         vals, "higher"))
            vals = [per[k].get(f"cpu_gib_{direction}") if k in per else None
                    for k in COLUMNS]
            rows.append(("  server CPU per GiB, s", [fmt(v, "s") for v in vals],
                         vals, "lower"))
            vals = [per[k].get(f"client_cpu_gib_{direction}") if k in per else None
                    for k in COLUMNS]
            rows.append(("  ssh client CPU per GiB, s", [fmt(v, "s") for v in vals],
                         vals, "lower"))
    for kex, per in res.get("login_cpu", {}).items():
        short = kex.split("-")[0]
        vals = [per[k]["login"] if k in per else None for k in COLUMNS]
        rows.append((f"login {short}, ms", [fmt(v, "ms") for v in vals], vals, "lower"))
        vals = [per[k]["cpu_s"] if k in per else None for k in COLUMNS]
        rows.append((f"server CPU per login {short}, ms", [fmt(v, "ms") for v in vals],
                     vals, "lower"))
    fwd = res.get("forwarding")
    if fwd:
        vals = [fwd[k]["mib_s"] if k in fwd else None for k in COLUMNS]
        rows.append((f"ssh -L {res['params']['size_mib']} MiB to a loopback sink, MiB/s",
                     [fmt(v, "MiB/s") for v in vals], vals, "higher"))
        vals = [median(fwd[k]["cpu_s"]) if k in fwd else None for k in COLUMNS]
        rows.append((f"  server CPU for those {res['params']['size_mib']} MiB, s", [fmt(v, "s") for v in vals], vals,
                     "lower"))
    mem = res.get("memory")
    if not mem:
        return rows             # --only forwarding
    n = next(iter(mem.values())).get("sessions", 1)
    for what, key in ((f"RSS per idle session (ssh -N, {n} held), KiB", "session_rss_kib"),
                      (f"PSS per idle session (ssh -N, {n} held), KiB", "session_pss_kib"),
                      ("  its private pages (clean + dirty), KiB", "session_private_kib"),
                      ("listener RSS, KiB", "listener_rss_kib")):
        vals = [mem[k].get(key) if k in mem else None for k in COLUMNS]
        rows.append((what, [fmt(v, "KiB") for v in vals], vals, "lower"))
    vals = [mem[k]["session_processes"] if k in mem else None for k in COLUMNS]
    rows.append(("server processes per session", [fmt(v, "") for v in vals], vals, "lower"))
    size = res.get("size")
    if not size:
        return rows             # --only memory
    for what, key in (("binary file, bytes", "file_bytes"),
                      ("binary stripped, bytes", "stripped_bytes"),
                      ("text+data, bytes", None),
                      ("+ shared libs beyond libc, bytes", "shared_libs_bytes")):
        if key is None:
            vals = [size[k]["text"] + size[k]["data"] if "text" in size.get(k, {}) else None
                    for k in COLUMNS]
        else:
            vals = [size.get(k, {}).get(key) for k in COLUMNS]
        rows.append((what, [fmt(v, "") for v in vals], vals, "lower"))
    return rows


def print_table(res):
    rows = table_rows(res)
    head = ("metric", *COLUMNS, "w/sshd", "w/dropbear", "w/tinysshd", "better")
    lines = [(r[0], *r[1], ratio(r[2][0], r[2][1]), ratio(r[2][0], r[2][2]),
              ratio(r[2][0], r[2][3]), r[3]) for r in rows]
    widths = [max(len(str(x[i])) for x in [head] + lines) for i in range(len(head))]
    out = []
    for i, line in enumerate([head] + lines):
        out.append("  ".join(str(c).ljust(widths[j]) if j == 0 else str(c).rjust(widths[j])
                             for j, c in enumerate(line)))
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    print("\n".join(out))
    st = res.get("size", {}).get("wombatd_static")
    print()
    if st:
        print(f"wombatd static build ({st['path']}): {st['file_bytes']} bytes, "
              f"stripped {st.get('stripped_bytes', 'n/a')}")
    else:
        print("wombatd static build: none (./configure --enable-static not used; "
              "or set WOMBAT_STATIC=path)")
    v = res["versions"]
    print(f"measured: wombatd {v['wombatd']}; {v['sshd']}; {v['dropbear']}; "
          f"{v.get('tinysshd', 'tinysshd: not run')}")
    m = res["machine"]
    print(f"machine: {m['cpu']}, {m['cpus']} CPUs, Linux {m['kernel']}; "
          f"client and servers share these CPUs")
    if "latency" in res or "forwarding" in res:
        print(f"{res['params']['reps']} repetitions (latency {res['params']['latency_reps']}), "
              f"medians; transfers of {res['params']['size_mib']} MiB, login time subtracted "
              f"(uploads: login + sink start-up; the sink widens its pipe to 1 MiB); "
              f"ssh -L: timed from the connect through the tunnel to the sink's close coming "
              f"back, the login done before")
    if "throughput" in res:
        print("server CPU per GiB: the server's own processes (not the user's command), "
              f"sampled every {ServerCpu.SAMPLE_S * 1000:.0f} ms during each transfer, "
              "less the server's CPU per curve25519 login, scaled to 1 GiB; median")
        print("ssh client CPU per GiB: the OpenSSH client's own user + system time for "
              "each transfer, less its time for an empty upload (its login), scaled to "
              "1 GiB; median. One client process does all of a transfer's cipher work on "
              "its side, so 1024 / that figure is the most MiB/s that direction can reach "
              "with this client on this machine, whatever the server")
        print("client->server, stdin a file: the first cipher's upload again, the ssh "
              "client reading a file (in the page cache) instead of a pipe from `head -c`, "
              "as scp and sftp read what they upload")
    if "latency" in res:
        print("tinysshd and wombatd -i: one process per connection under "
              "systemd-socket-activate --inetd -a; login rows and chacha20-poly1305 only")
    mem = res.get("memory")
    if mem:
        n = next(iter(mem.values())).get("sessions", 1)
        print(f"memory: {n} `ssh -N` sessions per server held at once, read "
              f"{IDLE_SETTLE_S} s after the last login (past wombatd's idle trim); "
              f"sums over the server's processes other than the listener, divided by {n}")


# -------------------------------------------------------------------- main

def start_inetd_servers(workdir, hostkey):
    """tinysshd (keys from tinysshd-makekey) and wombatd -i, each under
    its own launcher; a column stays n/a when its program is missing."""
    started = []
    if not os.access(SOCKET_ACTIVATE, os.X_OK):
        print(f"bench.py: {SOCKET_ACTIVATE} missing: no tinysshd or wombatd -i column",
              file=sys.stderr)
        return started
    kinds = [("wombatd -i", WOMBATD, None)]
    if os.access(TINYSSHD, os.X_OK) and os.access(TINYSSHD_MAKEKEY, os.X_OK):
        keydir = os.path.join(workdir, "tinysshd-keys")
        run([TINYSSHD_MAKEKEY, keydir])
        kinds.insert(0, ("tinysshd", TINYSSHD, keydir))
    else:
        print("bench.py: tinysshd missing (apt-get install tinysshd): no column for it",
              file=sys.stderr)
    for kind, binary, keydir in kinds:
        s = Server(kind, binary, workdir, hostkey, None, tinyssh_keys=keydir)
        s.start()
        started.append(s)
    return started


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=5, help="repetitions per transfer (5)")
    ap.add_argument("--latency-reps", type=int, default=15, help="logins per server (15)")
    ap.add_argument("--size", type=int, default=256, help="MiB per transfer (256)")
    ap.add_argument("--json", default=os.path.join(HERE, "bench-results.json"))
    ap.add_argument("--only", choices=("all", "forwarding", "login", "memory"), default="all",
                    help="all measurements (default), only the ssh -L row, only the "
                    "login rows (latency, server CPU per login), or only the memory rows")
    ap.add_argument("--user-prefix", default="wbench",
                    help="name prefix of the throw-away login user (wbench)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench.py: run as root (it starts sshd and dropbear and adds a user)")
    for prog in (WOMBATD, SSHD, DROPBEAR, DROPBEARCONVERT, SSH, SSH_KEYGEN):
        if not os.access(prog, os.X_OK):
            sys.exit(f"bench.py: {prog} missing (wombatd: make; others: apt-get install "
                     "openssh-server openssh-client dropbear-bin)")
    # SIGTERM unwinds like ^C so the user and servers are cleaned up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    workdir = tempfile.mkdtemp(prefix="wombat-bench-")
    servers, user = [], None
    try:
        hostkey = os.path.join(workdir, "host_ed25519")
        userkey = os.path.join(workdir, "id_ed25519")
        dbkey = os.path.join(workdir, "host_ed25519.dropbear")
        for path in (hostkey, userkey):
            run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", path])
        run([DROPBEARCONVERT, "openssh", "dropbear", hostkey, dbkey])
        with open(userkey + ".pub") as f:
            user = BenchUser(f.read(), prefix=args.user_prefix)

        binaries = {"wombatd": WOMBATD, "sshd": SSHD, "dropbear": DROPBEAR}
        for kind in SERVERS:
            s = Server(kind, binaries[kind], workdir, hostkey, dbkey)
            servers.append(s)
            s.start()
        inetd_servers = start_inetd_servers(workdir, hostkey)
        servers += inetd_servers
        core = [s for s in servers if s.kind in SERVERS]
        for s in servers:
            if timed(ssh_argv(s, user.name, userkey, "true", opts=LOGIN_OPTS)) is None:
                raise RuntimeError(f"cannot log in to {s.kind}; see {s.log_path}")

        res = {"versions": versions(), "machine": machine(),
               "params": {"reps": args.reps, "latency_reps": args.latency_reps,
                          "size_mib": args.size}}
        if args.only == "forwarding":
            print("forwarding...", file=sys.stderr)
            res["forwarding"] = measure_forwarding(core, user.name, userkey, args.reps,
                                                   args.size)
        if args.only == "memory":
            print("memory...", file=sys.stderr)
            res["memory"] = {s.kind: measure_memory(s, user.name, userkey, workdir)
                             for s in core}
        if args.only in ("forwarding", "memory"):
            print_table(res)
            with open(args.json, "w") as f:
                json.dump(res, f, indent=2)
            print(f"raw numbers: {args.json}")
            return
        print("latency...", file=sys.stderr)
        res["latency"] = measure_latency(servers, user.name, userkey, args.latency_reps)
        login_median = {k: median(v["login"]) for k, v in res["latency"].items()}
        res["login_cpu"] = measure_login_cpu(servers, user.name, userkey, args.latency_reps)
        if args.only == "login":
            print_table(res)
            with open(args.json, "w") as f:
                json.dump(res, f, indent=2)
            print(f"raw numbers: {args.json}")
            return
        print("throughput...", file=sys.stderr)
        res["throughput"] = measure_throughput(servers, user.name, userkey, args.reps,
                                               args.size, login_median,
                                               res["login_cpu"].get("curve25519-sha256"),
                                               make_upload_file(workdir, args.size))
        print("forwarding...", file=sys.stderr)
        res["forwarding"] = measure_forwarding(core, user.name, userkey, args.reps,
                                               args.size)
        print("memory...", file=sys.stderr)
        res["memory"] = {s.kind: measure_memory(s, user.name, userkey, workdir)
                         for s in core}
        res["size"] = {k: size_info(binaries[k], workdir) for k in SERVERS}
        st = static_wombatd()
        if st:
            res["size"]["wombatd_static"] = size_info(st, workdir)
        print_table(res)
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)
        print(f"raw numbers: {args.json}")
    finally:
        for s in servers:
            s.stop()
        if user:
            user.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
