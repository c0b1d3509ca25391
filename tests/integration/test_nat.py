"""Keepalives behind a real NAT (issue 4): three network namespaces made
here — client, router, server — where the router masquerades, forgets idle
TCP mappings after a few seconds (conntrack established timeout) and drops
what it no longer knows (INVALID). An idle session dies there; with
ClientAliveInterval 2 it survives a 15 s silence."""
import os
import re
import subprocess
import time

import pytest

from conftest import SERVER_KIND, server_argv, ssh_argv

CONNTRACK_TIMEOUT = 4           # seconds an idle mapping lives on the router
SERVER_IP = "10.231.2.2"


def sh(*argv):
    subprocess.run(argv, check=True, capture_output=True)


def can_make_namespaces():
    if os.geteuid() != 0:
        return "network namespaces need root"
    name = f"wbprobe{os.getpid()}"
    r = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if r.returncode != 0:
        return f"cannot create a network namespace here: {r.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return None


@pytest.fixture
def nat():
    """Namespaces {c, r, s}: c 10.231.1.2 -> r (MASQUERADE) -> s 10.231.2.2."""
    why = can_make_namespaces()
    if why:
        pytest.skip(why)
    tag = f"wb{os.getpid() % 100000}"
    ns = {k: f"{tag}{k}" for k in "crs"}
    try:
        for n in ns.values():
            sh("ip", "netns", "add", n)
            sh("ip", "-n", n, "link", "set", "lo", "up")
        sh("ip", "link", "add", f"{tag}c0", "type", "veth", "peer", "name", f"{tag}r0")
        sh("ip", "link", "add", f"{tag}r1", "type", "veth", "peer", "name", f"{tag}s0")
        for dev, n, addr in ((f"{tag}c0", "c", "10.231.1.2/24"), (f"{tag}r0", "r", "10.231.1.1/24"),
                             (f"{tag}r1", "r", "10.231.2.1/24"), (f"{tag}s0", "s", SERVER_IP + "/24")):
            sh("ip", "link", "set", dev, "netns", ns[n])
            sh("ip", "-n", ns[n], "addr", "add", addr, "dev", dev)
            sh("ip", "-n", ns[n], "link", "set", dev, "up")
        sh("ip", "-n", ns["c"], "route", "add", "default", "via", "10.231.1.1")
        # the server has no route back to the client's network: only the
        # router's masqueraded address (10.231.2.1) is reachable from it
        rx = ["ip", "netns", "exec", ns["r"]]
        sh(*rx, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        sh(*rx, "sysctl", "-qw",
           f"net.netfilter.nf_conntrack_tcp_timeout_established={CONNTRACK_TIMEOUT}")
        # a forgotten mapping is not picked up again mid-stream: INVALID
        sh(*rx, "sysctl", "-qw", "net.netfilter.nf_conntrack_tcp_loose=0")
        sh(*rx, "iptables", "-t", "nat", "-A", "POSTROUTING", "-o", f"{tag}r1", "-j", "MASQUERADE")
        sh(*rx, "iptables", "-A", "FORWARD", "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP")
        sh(*rx, "iptables", "-A", "INPUT", "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP")
        yield ns
    finally:
        for n in ns.values():
            subprocess.run(["ip", "netns", "del", n], capture_output=True)


@pytest.fixture
def nat_server(nat, keys, tmp_path):
    """Factory: a wombatd in the server namespace with extra options."""
    procs = []

    def start(extra_opts=()):
        log = tmp_path / f"wombatd-{len(procs)}.log"
        argv = server_argv(SERVER_KIND, 2222, list(keys.host.values()), keys.authorized_keys,
                           [f"ListenAddress={SERVER_IP}"] + list(extra_opts))
        out = open(log, "wb")
        p = subprocess.Popen(["ip", "netns", "exec", nat["s"]] + argv, stdin=subprocess.DEVNULL,
                             stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        procs.append((p, out))
        deadline = time.monotonic() + 10
        while not re.search(r"listening on " + re.escape(SERVER_IP), log.read_text(), re.I):
            assert p.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        return log

    yield start
    for p, out in procs:
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
        try:
            os.killpg(p.pid, 9)
        except ProcessLookupError:
            pass
        out.close()


def client_ssh(nat, cmd):
    class Via:
        port = 2222
    argv = ssh_argv(Via, cmd)
    argv[argv.index("127.0.0.1")] = SERVER_IP
    return subprocess.Popen(["ip", "netns", "exec", nat["c"]] + argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


pytestmark = pytest.mark.skipif(SERVER_KIND != "wombatd", reason="wombat's ClientAlive timing")


def test_idle_session_dies_behind_nat_without_keepalives(nat, nat_server):
    nat_server()
    p = client_ssh(nat, "echo up; sleep 8; echo late")
    try:
        assert p.stdout.readline() == b"up\n"
        # the mapping is gone after CONNTRACK_TIMEOUT s of silence: "late"
        # (sent at 8 s) is dropped at the router and never arrives
        with pytest.raises(subprocess.TimeoutExpired):
            p.wait(timeout=12)
    finally:
        p.kill()
        out, _ = p.communicate(timeout=10)
    assert b"late" not in out


def test_client_alive_keeps_session_through_nat(nat, nat_server):
    nat_server(["ClientAliveInterval=2"])
    p = client_ssh(nat, "echo up; sleep 15; echo late")
    try:
        out, err = p.communicate(timeout=40)
    finally:
        p.kill()
    assert out == b"up\nlate\n", err
    assert p.returncode == 0
