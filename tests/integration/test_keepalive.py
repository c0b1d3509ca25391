"""Keepalives (issue 4): ClientAliveInterval/CountMax probes and their
timeout, through a relay that turns into a black hole; the client's own
ServerAlive keepalives answered; TCPKeepAlive on the socket."""
import re
import socket
import subprocess
import threading
import time

import pytest

from conftest import SERVER_KIND, ssh, ssh_argv

wombat_only = pytest.mark.skipif(SERVER_KIND != "wombatd", reason="wombat's log lines")


class BlackHoleRelay:
    """Forwards one TCP connection both ways until black_hole() is called;
    from then on nothing is read or forwarded, and both sockets stay open
    (a dead NAT mapping or a pulled cable, not a reset)."""

    def __init__(self, server_port):
        self.server_port = server_port
        self.forwarding = threading.Event()
        self.forwarding.set()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.socks = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        client, _ = self.listener.accept()
        upstream = socket.create_connection(("127.0.0.1", self.server_port))
        self.socks = [client, upstream]
        for src, dst in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src, dst):
        src.settimeout(0.1)
        while True:
            if not self.forwarding.is_set():
                time.sleep(0.05)     # black hole: leave the data unread
                continue
            try:
                data = src.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if not data:
                return
            try:
                dst.sendall(data)
            except OSError:
                return

    def black_hole(self):
        self.forwarding.clear()

    def resume(self):
        self.forwarding.set()

    def close(self):
        for s in self.socks + [self.listener]:
            s.close()


def relay_ssh(relay, server, cmd, opts=()):
    class Via:                       # ssh_argv only needs .port
        port = relay.port
    return subprocess.Popen(ssh_argv(Via, cmd, opts=opts), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@wombat_only
def test_client_alive_closes_dead_connection(start_server):
    srv = start_server(["ClientAliveInterval=1", "ClientAliveCountMax=3"])
    relay = BlackHoleRelay(srv.port)
    mark = srv.mark()
    p = relay_ssh(relay, srv, "echo up; sleep 60")
    try:
        assert p.stdout.readline() == b"up\n"
        relay.black_hole()
        t0 = time.monotonic()
        m = srv.wait_log(r"ended: keepalive timeout: 3 probes unanswered "
                         r"\(ClientAliveInterval 1, ClientAliveCountMax 3\)", mark, timeout=10)
        took = time.monotonic() - t0
        assert m, srv.log(mark)
        assert took < 6, f"server needed {took:.1f}s to give up"
        assert took > 2.5, f"gave up after {took:.1f}s: fewer probes than configured"
    finally:
        p.kill()
        p.wait()
        relay.close()
        srv.stop()


@wombat_only
def test_without_client_alive_dead_connection_stays(start_server):
    """No keepalives: a black hole of 6 s goes unnoticed, and once the path
    is back the session carries on."""
    srv = start_server()
    relay = BlackHoleRelay(srv.port)
    mark = srv.mark()
    p = relay_ssh(relay, srv, "echo up; sleep 7; echo still-here")
    try:
        assert p.stdout.readline() == b"up\n"
        relay.black_hole()
        time.sleep(6)
        # (the fixture's port probe ends unauthenticated: not this session)
        assert not re.search(r"ended: .*; user (?!\(not authenticated)", srv.log(mark)), \
            srv.log(mark)
        relay.resume()
        out, _ = p.communicate(timeout=20)
        assert out == b"still-here\n"
        assert p.returncode == 0
    finally:
        p.kill()
        p.wait()
        relay.close()
        srv.stop()


@wombat_only
def test_answered_probes_keep_the_connection(start_server):
    """Probes the client answers reset the count: CountMax 1 does not end a
    live connection that is silent for several intervals."""
    srv = start_server(["ClientAliveInterval=1", "ClientAliveCountMax=1"])
    try:
        mark = srv.mark()
        r = ssh(srv, "sleep 4; echo done", timeout=30, verbose=True)
        assert r.returncode == 0 and r.stdout == b"done\n"
        # with a session open the probe goes as a channel request (OpenSSH's way)
        assert re.search(rb"client_input_channel_req: channel \d+ rtype keepalive@openssh.com reply 1",
                         r.stderr), r.stderr[-2000:]
        assert not re.search(r"keepalive timeout", srv.log(mark))
    finally:
        srv.stop()


@wombat_only
def test_probe_is_global_request_without_channel(start_server):
    srv = start_server(["ClientAliveInterval=1"])
    try:
        p = subprocess.Popen(ssh_argv(srv, opts=["SessionType=none"], verbose=True),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        time.sleep(3)
        p.kill()
        _, err = p.communicate(timeout=10)
        assert re.search(rb"client_input_global_request: rtype keepalive@openssh.com want_reply 1",
                         err), err[-2000:]
    finally:
        srv.stop()


def test_server_alive_from_client_answered(server):
    """The client's keepalive@openssh.com global requests get an answer, so
    `ssh -o ServerAliveInterval=1 -o ServerAliveCountMax=2 host sleep 5`
    survives its own keepalive."""
    r = ssh(server, "sleep 5; echo done", opts=["ServerAliveInterval=1",
                                                "ServerAliveCountMax=2"], timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"done\n"


@wombat_only
def test_tcp_keepalive_socket_option(start_server):
    """TCPKeepAlive yes (the default) sets SO_KEEPALIVE on the connection;
    no leaves it off. Read from the connection process's socket with ss."""
    def keepalive_timer(opts):
        srv = start_server(opts)
        try:
            p = subprocess.Popen(ssh_argv(srv, "sleep 3"), stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            time.sleep(1.5)
            out = subprocess.run(["ss", "-tno", "state", "established",
                                  f"( sport = :{srv.port} )"],
                                 capture_output=True, text=True).stdout
            p.wait(timeout=20)
            return out
        finally:
            srv.stop()

    assert "timer:(keepalive" in keepalive_timer([])
    out = keepalive_timer(["TCPKeepAlive=no"])
    assert "ESTAB" in out or "127.0.0.1" in out, out
    assert "timer:(keepalive" not in out
