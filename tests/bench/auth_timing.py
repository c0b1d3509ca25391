#!/usr/bin/python3
"""How long a failed password try takes, by kind of user: an existing user
with a password, a user that does not exist, a key-only user ("*") and a
locked one. If wombatd leaks which users exist through timing, the
medians differ. A measurement, not a test: it prints median, 10th/90th
percentile and standard deviation (ms) of N tries each.

    make && sudo /usr/bin/python3 tests/bench/auth_timing.py [-n 50]

Needs root (it creates and removes the throw-away users wbtime1..3) and
python3-paramiko. wombatd runs on a free loopback port with a fresh key.
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import paramiko

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
WOMBATD = os.path.join(REPO, "wombatd")
PASSWORD = "Bench-pw-4711"
USERS = {"wbtime1": "password", "wbtime2": "key-only", "wbtime3": "locked"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_users():
    for name, kind in USERS.items():
        subprocess.run(["userdel", "-r", "-f", name], capture_output=True)
        subprocess.run(["useradd", "-m", "-s", "/bin/sh", name], check=True)
        subprocess.run(["chpasswd"], input=f"{name}:{PASSWORD}\n", text=True, check=True)
        if kind == "key-only":
            subprocess.run(["usermod", "-p", "*", name], check=True)
        elif kind == "locked":
            subprocess.run(["usermod", "-L", name], check=True)


def remove_users():
    for name in USERS:
        subprocess.run(["userdel", "-r", "-f", name], capture_output=True)


def start_server(tmp):
    key = os.path.join(tmp, "hostkey")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
    port = free_port()
    log = open(os.path.join(tmp, "wombatd.log"), "wb")
    argv = [WOMBATD, "-D", "-e", "-p", str(port), "-h", key, "-o", "ListenAddress=127.0.0.1",
            "-o", "PidFile=none", "-o", "MaxStartups=100"]
    # the failures below would otherwise get 127.0.0.1 penalised
    dump = subprocess.run([WOMBATD, "-T", "-f", "/dev/null"], capture_output=True, text=True)
    if "persourcepenalties" in dump.stdout:
        argv += ["-o", "PerSourcePenalties=no"]
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("wombatd did not start")


def one_try(port, user):
    """Seconds from the password request to the failure answer."""
    t = paramiko.Transport(("127.0.0.1", port))
    try:
        t.start_client(timeout=10)
        try:
            t.auth_none(user)            # service request and method list, not timed
        except paramiko.BadAuthenticationType:
            pass
        start = time.perf_counter()
        try:
            t.auth_password(user, "not-the-password")
        except paramiko.AuthenticationException:
            pass
        return time.perf_counter() - start
    finally:
        t.close()


def summary(samples):
    ms = sorted(s * 1000 for s in samples)
    q = statistics.quantiles(ms, n=10)
    return (f"median {statistics.median(ms):7.2f}  p10 {q[0]:7.2f}  p90 {q[-1]:7.2f}  "
            f"stdev {statistics.stdev(ms):6.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=50, help="tries per kind of user (50)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: it creates throw-away users")
    kinds = {"existing user, wrong password": "wbtime1",
             "user that does not exist": "wbnosuchuser",
             "key-only user (*)": "wbtime2",
             "locked user (!)": "wbtime3"}
    make_users()
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_server(tmp)
        try:
            samples = {k: [] for k in kinds}
            for _ in range(args.n):          # interleaved, so drift hits all alike
                for kind, user in kinds.items():
                    samples[kind].append(one_try(port, user))
        finally:
            proc.terminate()
            proc.wait()
            remove_users()
    print(f"failed password tries against wombatd, {args.n} each (ms):")
    for kind in kinds:
        print(f"  {kind:32s} {summary(samples[kind])}")


if __name__ == "__main__":
    main()
