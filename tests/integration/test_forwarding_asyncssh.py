"""Forwarding at the protocol level, with asyncssh as the client (issue 10's
direct protocol checks): a direct-tcpip channel carrying data both ways
with each side's EOF arriving on its own; an open PermitOpen refuses,
seen as the OPEN_FAILURE reason code; tcpip-forward for port 0 answered
with the port the server chose, and a forwarded-tcpip channel for a
connection to it; cancel-tcpip-forward closing that listener.

The targets are small Python servers on 127.0.0.1.
"""
import asyncio
import hashlib
import os
import socket
import threading
import time
import warnings

import pytest

from conftest import SERVER_KIND, USER

with warnings.catch_warnings():
    warnings.simplefilter("ignore")       # asyncssh imports deprecated ciphers
    import asyncssh

pytestmark = pytest.mark.skipif(SERVER_KIND != "wombatd",
                                reason="wombat's options and log lines")


class HalfClosePeer:
    """Per connection: sends `greeting` and half-closes at once, then reads
    to EOF; records the sha256 and length of what it read."""

    def __init__(self, greeting):
        self.greeting = greeting
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.received = []
        self.done = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.sendall(self.greeting)
                conn.shutdown(socket.SHUT_WR)
                digest, n = hashlib.sha256(), 0
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break
                    digest.update(data)
                    n += len(data)
                self.received.append((n, digest.hexdigest()))
                self.done.set()

    def close(self):
        self.sock.close()


def closed_port():
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def connect(server, keys):
    return await asyncssh.connect("127.0.0.1", server.port, username=USER,
                                  client_keys=[keys.user["ed25519"]], known_hosts=None,
                                  agent_path=None, config=None)


def run(coro, timeout=60):
    return asyncio.run(asyncio.wait_for(coro, timeout))


@pytest.fixture(scope="module")
def peer():
    p = HalfClosePeer(b"far side first\n" + os.urandom(300_000))
    yield p
    p.close()


@pytest.fixture(scope="module")
def fwd_server(start_server, peer):
    # One allowed target: the peer. Anything else is refused by PermitOpen.
    srv = start_server(["ForwardConnectTimeout=5",
                        f"PermitOpen=127.0.0.1:{peer.port}"])
    yield srv
    srv.stop()


def test_direct_tcpip_both_ways_with_half_close(fwd_server, keys, peer):
    """The far side's EOF reaches us while our direction stays open; what we
    send after it, then our EOF, all reach the far side."""
    payload = os.urandom(2_000_000)
    peer.done.clear()

    async def go():
        async with await connect(fwd_server, keys) as conn:
            reader, writer = await conn.open_connection("127.0.0.1", peer.port)
            got = await reader.read()             # to the far side's EOF
            assert reader.at_eof()
            writer.write(payload)                  # our direction still open
            writer.write_eof()
            await writer.drain()
            # the far side closes once it has read our EOF: the channel ends
            await asyncio.get_running_loop().run_in_executor(None, peer.done.wait, 30)
            await writer.channel.wait_closed()
            return got

    got = run(go())
    assert got == peer.greeting
    assert peer.received[-1] == (len(payload), hashlib.sha256(payload).hexdigest())


def test_permit_open_refusal_is_administratively_prohibited(fwd_server, keys, peer):
    """A target outside PermitOpen: OPEN_FAILURE with code 1
    (ADMINISTRATIVELY_PROHIBITED), the rule in the log; a permitted target
    nobody listens on would be CONNECT_FAILED instead (checked against a
    server that permits it)."""
    other = closed_port()
    mark = fwd_server.mark()

    async def go():
        async with await connect(fwd_server, keys) as conn:
            with pytest.raises(asyncssh.ChannelOpenError) as refused:
                await conn.open_connection("127.0.0.1", other)
            return refused.value

    err = run(go())
    assert err.code == asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED
    assert fwd_server.wait_log(rf"direct-tcpip to 127\.0\.0\.1 port {other} .*refused for "
                               rf"{USER}: PermitOpen", mark)


def test_connect_failure_is_connect_failed(start_server, keys):
    srv = start_server(["ForwardConnectTimeout=5"])
    try:
        port = closed_port()

        async def go():
            async with await connect(srv, keys) as conn:
                with pytest.raises(asyncssh.ChannelOpenError) as failed:
                    await conn.open_connection("127.0.0.1", port)
                return failed.value

        assert run(go()).code == asyncssh.OPEN_CONNECT_FAILED
    finally:
        srv.stop()


def test_tcpip_forward_port0_then_cancel(fwd_server, keys):
    """tcpip-forward with port 0: REQUEST_SUCCESS carries the port the
    server bound; a connection to it arrives as a forwarded-tcpip channel
    (naming 127.0.0.1 and that port, and the connecting peer); after
    cancel-tcpip-forward nothing listens there any more."""
    arrived = []
    mark = fwd_server.mark()

    async def handle(reader, writer):
        data = await reader.read()             # to the connecting side's EOF
        writer.write(b"echo:" + data)
        writer.write_eof()

    def factory(orig_host, orig_port):
        arrived.append((orig_host, orig_port))
        return handle

    def dial(port):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            local_port = s.getsockname()[1]
            s.sendall(b"through -R")
            s.shutdown(socket.SHUT_WR)
            reply = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return local_port, reply
                reply += chunk

    async def go():
        async with await connect(fwd_server, keys) as conn:
            listener = await conn.start_server(factory, "127.0.0.1", 0)
            port = listener.get_port()
            loop = asyncio.get_running_loop()
            local_port, reply = await loop.run_in_executor(None, dial, port)
            listener.close()                   # cancel-tcpip-forward
            await listener.wait_closed()
            # the cancel is answered once the listener is closed: a
            # connection now is refused (a moment allowed for the stack)
            deadline = time.monotonic() + 10
            refused = False
            while time.monotonic() < deadline and not refused:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    await asyncio.sleep(0.1)
                except ConnectionRefusedError:
                    refused = True
            # the connection itself carries on
            still_up = (await conn.run("echo up", check=True)).stdout == "up\n"
            return port, local_port, reply, refused, still_up

    port, local_port, reply, refused, still_up = run(go())
    assert port > 0
    assert reply == b"echo:through -R"
    assert arrived == [("127.0.0.1", local_port)]
    assert fwd_server.wait_log(rf"tcpip-forward for {USER}: listening on 127\.0\.0\.1.* "
                               rf"port {port} \(asked 127\.0\.0\.1 port 0\)", mark)
    assert refused, "the listener still accepts after cancel-tcpip-forward"
    assert still_up
    assert fwd_server.wait_log(rf"remote forward on 127\.0\.0\.1 port {port} for {USER} "
                               r"closed", mark)
