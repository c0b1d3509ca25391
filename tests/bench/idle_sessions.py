#!/usr/bin/python3
"""Many idle authenticated sessions held at once: their memory, and how fast
the listener still answers.

Opens N connections (default 1,000) from this one process with asyncssh,
each logged in with a key and left without a channel (as `ssh -N`), a few
handshakes in flight at a time so MaxStartups never drops one. With all of
them held it reports:

  - the memory of the server's processes (the listener and every
    connection process running the server binary, as bench.py counts
    them): the sum of their PSS, of their Private_Dirty, and of their page
    tables (VmPTE, which PSS leaves out), and the drop of MemAvailable
    since before the first connection (kernel socket buffers included);
  - the listener's accept latency under that load: the time from connect()
    to the server's SSH banner, and the wall time of a fresh `ssh true`
    login by OpenSSH's client, each also measured before the load.

Needs root (a throw-away user, servers on 127.0.0.1), like bench.py whose
helpers it uses. Not part of make check; `make bench-idle` runs it.

    /usr/bin/python3 tests/bench/idle_sessions.py [--sessions N]
        [--servers wombatd,dropbear,sshd] [--json FILE]
"""
import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (its Server, BenchUser and /proc helpers)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")     # cryptography deprecation noise
    import asyncssh  # noqa: E402

IN_FLIGHT = 8          # handshakes at once: below MaxStartups' default 10
# As `ssh -N` with OpenSSH's default Compression=no (asyncssh would offer
# zlib@openssh.com first; --compression measures that).
COMPRESSION = "none"
BANNER_PROBES = 20
LOGIN_PROBES = 5


def proc_kib(pid, path, field):
    """A kB field of /proc/PID/<path> (smaps_rollup or status), or 0."""
    try:
        with open(f"/proc/{pid}/{path}") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def mem_available_kib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return 0


def server_memory(server):
    """Memory of the listener and of its descendants running the server
    binary (not users' shells), in KiB."""
    procs = [server.pid] + bench.server_processes(server)
    return {
        "processes": len(procs),
        "pss_kib": sum(proc_kib(p, "smaps_rollup", "Pss") for p in procs),
        "private_dirty_kib": sum(proc_kib(p, "smaps_rollup", "Private_Dirty") for p in procs),
        "page_tables_kib": sum(proc_kib(p, "status", "VmPTE") for p in procs),
        "listener_pss_kib": proc_kib(server.pid, "smaps_rollup", "Pss"),
    }


def banner_seconds(port, timeout=30):
    """connect() to the first line of the server's version exchange."""
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        got = b""
        while b"\n" not in got:
            chunk = s.recv(256)
            if not chunk:
                return None
            got += chunk
    return time.perf_counter() - t0 if got.startswith(b"SSH-") else None


def latency(server, user, key):
    banners = [banner_seconds(server.port) for _ in range(BANNER_PROBES)]
    logins = [bench.timed(bench.ssh_argv(server, user, key, "true", opts=bench.LOGIN_OPTS))
              for _ in range(LOGIN_PROBES)]
    ok_b = [b for b in banners if b is not None]
    ok_l = [x for x in logins if x is not None]
    return {
        "banner_ms_median": statistics.median(ok_b) * 1000 if ok_b else None,
        "banner_ms_max": max(ok_b) * 1000 if ok_b else None,
        "banner_failures": len(banners) - len(ok_b),
        "login_ms_median": statistics.median(ok_l) * 1000 if ok_l else None,
        "login_failures": len(logins) - len(ok_l),
    }


async def open_sessions(port, user, key, n):
    """n authenticated connections with no channel; the ones that failed
    are counted, not retried."""
    gate = asyncio.Semaphore(IN_FLIGHT)
    client_key = asyncssh.read_private_key(key)

    async def one():
        async with gate:
            try:
                return await asyncio.wait_for(asyncssh.connect(
                    "127.0.0.1", port, username=user, client_keys=[client_key],
                    known_hosts=None, agent_path=None, keepalive_interval=0,
                    compression_algs=[COMPRESSION]), 60)
            except (OSError, asyncssh.Error, asyncio.TimeoutError):
                return None

    conns = await asyncio.gather(*(one() for _ in range(n)))
    return [c for c in conns if c is not None]


async def hold_and_measure(server, user, key, n, settle):
    t0 = time.perf_counter()
    conns = await open_sessions(server.port, user, key, n)
    opened_s = time.perf_counter() - t0
    await asyncio.sleep(settle)       # the connections go quiet (idle trim)
    loop = asyncio.get_running_loop()
    mem = await loop.run_in_executor(None, server_memory, server)
    lat = await loop.run_in_executor(None, latency, server, user, key)
    # the sessions still served now that the probes are done
    alive = len(await loop.run_in_executor(None, bench.server_processes, server))
    for c in conns:
        c.close()
    await asyncio.gather(*(c.wait_closed() for c in conns), return_exceptions=True)
    return {"held": len(conns), "alive_at_end": alive, "open_seconds": opened_s,
            "memory": mem, "latency": lat}


def run_one(kind, binary, workdir, hostkey, dbkey, user, userkey, n, settle):
    s = bench.Server(kind, binary, workdir, hostkey, dbkey)
    if kind == "wombatd":
        # the banner probes end unauthenticated: no penalty for this client
        s.argv += ["-o", "PerSourcePenaltyExemptList=127.0.0.0/8"]
    s.start()
    try:
        if bench.timed(bench.ssh_argv(s, user.name, userkey, "true",
                                      opts=bench.LOGIN_OPTS)) is None:
            raise RuntimeError(f"cannot log in to {kind}; see {s.log_path}")
        time.sleep(1)
        avail0 = mem_available_kib()
        base = {"memory": server_memory(s), "latency": latency(s, user.name, userkey)}
        loaded = asyncio.run(hold_and_measure(s, user.name, userkey, n, settle))
        loaded["mem_available_drop_kib"] = avail0 - mem_available_kib()
        return {"idle": base, "loaded": loaded}
    finally:
        s.stop()


def fmt(x, spec="{:.1f}"):
    return "n/a" if x is None else spec.format(x)


def report(kind, r):
    base, ld = r["idle"], r["loaded"]
    m, m0 = ld["memory"], base["memory"]
    held = max(ld["held"], 1)
    per = (m["pss_kib"] - m0["pss_kib"]) / held
    print(f"{kind}: {ld['held']} sessions held ({ld['alive_at_end']} connection processes after the probes), "
          f"opened in {ld['open_seconds']:.1f} s")
    print(f"  server processes {m['processes']}: PSS {m['pss_kib'] / 1024:.1f} MiB "
          f"({per:.0f} KiB per session over the idle listener), "
          f"Private_Dirty {m['private_dirty_kib'] / 1024:.1f} MiB, "
          f"page tables {m['page_tables_kib'] / 1024:.1f} MiB; "
          f"MemAvailable dropped {ld['mem_available_drop_kib'] / 1024:.1f} MiB")
    print(f"  listener PSS {m['listener_pss_kib']} KiB (idle {m0['listener_pss_kib']} KiB)")
    for label, lat in (("no load", base["latency"]), ("under load", ld["latency"])):
        print(f"  {label}: banner median {fmt(lat['banner_ms_median'])} ms, "
              f"max {fmt(lat['banner_ms_max'])} ms ({lat['banner_failures']} failed); "
              f"ssh true median {fmt(lat['login_ms_median'])} ms "
              f"({lat['login_failures']} failed)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--servers", default="wombatd",
                    help="comma-separated, of wombatd,sshd,dropbear (wombatd)")
    ap.add_argument("--settle", type=float, default=2.0,
                    help="seconds the sessions stay quiet before measuring (2)")
    ap.add_argument("--json", default=os.path.join(HERE, "idle-sessions-results.json"))
    ap.add_argument("--user-prefix", default="wbench")
    ap.add_argument("--compression", action="store_true",
                    help="sessions with zlib@openssh.com (its state is per session)")
    args = ap.parse_args()
    global COMPRESSION
    if args.compression:
        COMPRESSION = "zlib@openssh.com"
    if os.geteuid() != 0:
        sys.exit("idle_sessions.py: run as root (it starts servers and adds a user)")
    kinds = args.servers.split(",")
    binaries = {"wombatd": bench.WOMBATD, "sshd": bench.SSHD, "dropbear": bench.DROPBEAR}
    for k in kinds:
        if k not in binaries or not os.access(binaries[k], os.X_OK):
            sys.exit(f"idle_sessions.py: no usable server {k!r}")
    # One fd per session here, and some to spare.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.sessions + 256
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            sys.exit(f"idle_sessions.py: RLIMIT_NOFILE hard limit {hard} < {want}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    workdir = tempfile.mkdtemp(prefix="wombat-idle-")
    user = None
    results = {"sessions": args.sessions, "settle_s": args.settle, "compression": COMPRESSION,
               "versions": bench.versions(), "machine": bench.machine()}
    try:
        hostkey = os.path.join(workdir, "host_ed25519")
        userkey = os.path.join(workdir, "id_ed25519")
        dbkey = hostkey + ".dropbear"
        for path in (hostkey, userkey):
            bench.run([bench.SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", path])
        if "dropbear" in kinds:
            bench.run([bench.DROPBEARCONVERT, "openssh", "dropbear", hostkey, dbkey])
        with open(userkey + ".pub") as f:
            user = bench.BenchUser(f.read(), prefix=args.user_prefix)
        for k in kinds:
            print(f"{k}: opening {args.sessions} sessions...", file=sys.stderr)
            results[k] = run_one(k, binaries[k], workdir, hostkey, dbkey, user, userkey,
                                 args.sessions, args.settle)
            report(k, results[k])
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
        print(f"raw numbers: {args.json}")
    finally:
        if user:
            user.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
