"""ChannelWindowSize: the receive window wombatd announces for each channel,
in its CHANNEL_OPEN_CONFIRMATION (channels the client opens) and in its own
CHANNEL_OPEN (forwarded-tcpip), and the most its WINDOW_ADJUSTs ever give.
Seen through paramiko, which records the window the server announced and
every adjust (Channel.out_window_size); transfers several times the window
must complete in both directions, with a small and a large value."""
import os
import socket
import threading

import paramiko
import pytest

from conftest import SERVER_KIND, USER, throwaway_user

pytestmark = pytest.mark.skipif(SERVER_KIND != "wombatd",
                                reason="ChannelWindowSize is wombat's own option")

DEFAULT = 2 * 1024 * 1024
# The smallest value allowed, and a large one: twice the default (and
# paramiko's own window). The largest allowed, 16 MiB, passes these tests
# too, but its transfers take paramiko seconds that make check cannot spare.
SMALL, LARGE = 4096, 4 * 1024 * 1024


def transfer_size(window):
    """Bigger than the window by half again (at least 64 KiB), and odd."""
    return max(window + window // 2, 1 << 16) + 12345


class WindowWatch:
    """The largest window the server ever left the client on each channel
    (it must never exceed what the server announced): the transport's
    WINDOW_ADJUST handler, wrapped."""

    def __init__(self, t):
        self.most = {}
        inner = paramiko.Channel._window_adjust

        def adjust(chan, m):
            inner(chan, m)
            self.most[chan] = max(self.most.get(chan, 0), chan.out_window_size)
        t._channel_handler_table = {**t._channel_handler_table,
                                    paramiko.common.MSG_CHANNEL_WINDOW_ADJUST: adjust}


@pytest.fixture(scope="module")
def user():
    """A user with /bin/sh: root's shell start-up (~/.bashrc) would cost
    seconds per session here."""
    with throwaway_user("wrowin", "a session as a plain user") as name:
        yield name


def login(server, keys, user=USER):
    """paramiko, logged in with the tests' ed25519 key (the server's
    AuthorizedKeysFile is one file for every user: readable_keys where
    the user is not root)."""
    t = paramiko.Transport(("127.0.0.1", server.port))
    t.start_client(timeout=30)
    t.auth_publickey(user, paramiko.Ed25519Key.from_private_key_file(keys.user["ed25519"]))
    assert t.is_authenticated()
    return t


def run(chan, command, data=b""):
    """exec command, send data, EOF; returns everything it printed."""
    chan.settimeout(120)
    chan.exec_command(command)
    sender = threading.Thread(target=lambda: (chan.sendall(data), chan.shutdown_write()))
    sender.start()
    out = bytearray()
    while True:
        piece = chan.recv(1 << 16)
        if not piece:
            break
        out += piece
    sender.join(120)
    assert not sender.is_alive(), "the upload did not finish"
    assert chan.recv_exit_status() == 0
    return bytes(out)


def window_server(start_server, readable_keys, window):
    return start_server(extra_opts=[f"ChannelWindowSize={window}"],
                        authorized_keys=readable_keys)


@pytest.mark.parametrize("window", [SMALL, LARGE])
def test_session_window_and_transfers_both_ways(start_server, readable_keys, keys, user, window):
    """cat sends back what it is sent: up through the server's window,
    down through the client's, at the same time."""
    server = window_server(start_server, readable_keys, window)
    data = os.urandom(transfer_size(window))
    t = login(server, keys, user)
    try:
        watch = WindowWatch(t)
        chan = t.open_session()
        assert chan.out_window_size == window       # CHANNEL_OPEN_CONFIRMATION
        back = run(chan, "cat", data)
        assert 0 < watch.most[chan] <= window, f"adjusts opened the window to {watch.most}"
        assert len(back) == len(data) and back == data, "the bytes changed on the way"
    finally:
        t.close()
    assert server.alive()


def test_default_window(start_server, keys):
    """Without the option: 2 MiB (in a Match block: test_match_options.py)."""
    server = start_server()
    t = login(server, keys)
    try:
        assert t.open_session().out_window_size == DEFAULT
    finally:
        t.close()
        server.stop()


def forward_and_connect(t):
    """A remote forward on 127.0.0.1 (server side), a connection to it; returns
    (the forwarded-tcpip channel the server opened, the connecting socket)."""
    got = []
    ready = threading.Event()

    def handler(chan, origin, dest):
        got.append(chan)
        ready.set()
    port = t.request_port_forward("127.0.0.1", 0, handler)
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    assert ready.wait(30), "the server did not open forwarded-tcpip"
    return got[0], sock


def send_and_read(send, recv, n, what):
    """Run send in a thread while reading n bytes with recv (both at once:
    a window refills only as its side is read); the bytes read."""
    sender = threading.Thread(target=send)
    sender.start()
    got = bytearray()
    while len(got) < n:
        piece = recv(1 << 16)
        assert piece, f"the {what} ended after {len(got)} of {n} bytes"
        got += piece
    sender.join(120)
    return bytes(got)


@pytest.mark.parametrize("window", [SMALL, LARGE])
def test_forwarded_channel_window_and_transfers(start_server, readable_keys, keys, user, window):
    """The server's own CHANNEL_OPEN announces the window too; data through
    it, more than the window, both ways."""
    server = window_server(start_server, readable_keys, window)
    n = transfer_size(window)
    data = os.urandom(n)
    t = login(server, keys, user)
    watch = WindowWatch(t)
    try:
        chan, sock = forward_and_connect(t)
        with sock:
            assert chan.out_window_size == window       # our CHANNEL_OPEN
            chan.settimeout(120)
            # client -> server -> socket: through the server's window
            assert send_and_read(lambda: (chan.sendall(data), chan.shutdown_write()),
                                 sock.recv, n, "socket") == data
            assert 0 < watch.most[chan] <= window
            # socket -> server -> client (read while sending: the client's
            # own window refills only as the channel is read)
            assert send_and_read(lambda: (sock.sendall(data), sock.shutdown(socket.SHUT_WR)),
                                 chan.recv, n, "channel") == data
    finally:
        t.close()
    assert server.alive()
