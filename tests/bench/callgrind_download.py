#!/usr/bin/python3
"""Instruction counts of a bulk download, per cipher, under callgrind.

wombatd runs under `valgrind --tool=callgrind`; for each cipher one client
downloads --size MiB of zeros (`head -c N /dev/zero`) and the connection
process's profile is read back (the process with the most instructions:
after the login the monitor carries the connection on): its total instructions, the count scaled to
one GiB, and the top functions (callgrind_annotate, inclusive of nothing:
self cost). Instruction counts do not depend on the machine's load, so
before/after figures compare on a busy machine where wall time does not.
The key exchange and login are in the count too (a few million
instructions, small against a transfer of 32 MiB or more).

The wombatd profiled is build-memcheck's (`make build-memcheck/wombatd`,
built here when missing): the listener starts each connection process by
exec'ing /proc/self/exe, which under valgrind is valgrind's tool, not
wombatd, so --trace-children cannot follow it; the -DWOMBAT_VALGRIND build
execs the path valgrind reports instead (src/rexec.c). Valgrind follows the
listener, the connection process and the pre-auth child; the user's shell
and command (under /bin, /usr) run natively.

Root only (a throw-away user is created and removed, as in bench.py):

    /usr/bin/python3 tests/bench/callgrind_download.py [--size MiB] [--top N]
        [--cipher NAME ...] [--env VAR=VALUE ...] [--keep DIR]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

import bench

CIPHERS = {
    "chacha20-poly1305": ("chacha20-poly1305@openssh.com", None),
    "aes128-gcm": ("aes128-gcm@openssh.com", None),
    "aes256-gcm": ("aes256-gcm@openssh.com", None),
    "aes128-ctr": ("aes128-ctr", "hmac-sha2-256-etm@openssh.com"),
}


MEMCHECK_WOMBATD = os.path.join(bench.REPO, "build-memcheck", "wombatd")


def build_memcheck():
    """The -DWOMBAT_VALGRIND wombatd, (re)built by make when missing or stale."""
    subprocess.run(["make", "-s", "-C", bench.REPO, "build-memcheck/wombatd"], check=True,
                   stdout=subprocess.DEVNULL)


def total_ir(path):
    with open(path) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    return 0


def top_entries(path, n):
    out = subprocess.run(["callgrind_annotate", "--auto=no", "--threshold=99", path],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(\S.*)", line)
        if m and not line.strip().endswith("PROGRAM TOTALS"):
            rows.append((int(m.group(1).replace(",", "")), float(m.group(2)), m.group(3)))
    return rows[:n]


def profile(label, cipher, mac, args, workdir, hostkey, userkey, user):
    outdir = os.path.join(workdir, label)
    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(outdir)
    wrapper = ["valgrind", "--tool=callgrind", "--trace-children=yes",
               "--trace-children-skip=/bin/*,/usr/*,/sbin/*",
               f"--callgrind-out-file={outdir}/cg.%p"]
    srv = bench.Server("wombatd", MEMCHECK_WOMBATD, workdir, hostkey, None)
    srv.argv = wrapper + srv.argv
    env_saved = dict(os.environ)
    os.environ.update(dict(kv.split("=", 1) for kv in args.env))
    try:
        srv.start(timeout=60)
    finally:
        os.environ.clear()
        os.environ.update(env_saved)
    try:
        argv = bench.ssh_argv(srv, user.name, userkey, f"head -c {args.size}M /dev/zero",
                              opts=bench.cipher_opts(cipher, mac))
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=3600)
        if r.returncode != 0 or len(r.stdout) != args.size << 20:
            raise RuntimeError(f"{label}: download failed: {r.stderr.decode()[-400:]}")
    finally:
        srv.stop()
    files = [os.path.join(outdir, f) for f in os.listdir(outdir)]
    conn = max(files, key=total_ir)      # the connection process did the work
    ir = total_ir(conn)
    print(f"== {label} ({cipher}{' + ' + mac if mac else ''}), {args.size} MiB down: "
          f"{ir:,} Ir, {ir / (args.size << 20):.2f} Ir per byte, "
          f"{ir * 1024 / args.size / 1e9:.2f} G Ir per GiB")
    for cost, pct, fn in top_entries(conn, args.top):
        print(f"   {pct:5.1f}%  {cost:>15,}  {fn}")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=32, help="MiB downloaded per cipher (32)")
    ap.add_argument("--top", type=int, default=12, help="functions listed (12)")
    ap.add_argument("--cipher", action="append", choices=sorted(CIPHERS),
                    help="only this cipher (repeatable)")
    ap.add_argument("--env", action="append", default=[],
                    help="VAR=VALUE in wombatd's environment (e.g. WOMBAT_CRYPTO=portable)")
    ap.add_argument("--prefix", default="wbench", help="throw-away user name prefix")
    ap.add_argument("--keep", help="keep the callgrind files in this directory")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("callgrind_download.py: run as root (it adds a throw-away user)")
    if not shutil.which("valgrind"):
        sys.exit("callgrind_download.py: needs valgrind")
    build_memcheck()
    workdir = args.keep or tempfile.mkdtemp(prefix="wombat-callgrind-")
    os.makedirs(workdir, exist_ok=True)
    user = None
    try:
        hostkey = os.path.join(workdir, "host_ed25519")
        userkey = os.path.join(workdir, "id_ed25519")
        for path in (hostkey, userkey):
            if not os.path.exists(path):
                bench.run([bench.SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", path])
        with open(userkey + ".pub") as f:
            user = bench.BenchUser(f.read(), prefix=args.prefix)
        for label in args.cipher or CIPHERS:
            cipher, mac = CIPHERS[label]
            profile(label, cipher, mac, args, workdir, hostkey, userkey, user)
    finally:
        if user:
            user.close()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
