"""Hostile or broken peers: each is cut off with a logged reason, and the
daemon keeps serving well-behaved clients afterwards."""
import os
import socket
import struct
import subprocess
import time

import pytest

from conftest import WOMBATD, SERVER_KIND, assert_good_login, ssh_argv
from relay import CorruptingRelay

CLIENT_VERSION = b"SSH-2.0-wombat_badinput_test\r\n"
MSG_KEXINIT = 20

# What the server's log must say for each rejection: one line holding both
# a topic keyword and a failure word (so that routine debug lines such as
# "kex: ... MAC: hmac-sha2-256" or "KEXINIT received" do not count).
# wombatd's own wording is matched by the first topic pattern; the second is
# OpenSSH sshd's, used only when cross-checking with WOMBAT_TEST_SERVER=sshd.
TOPICS = {
    "bad_version": (r"version", r"protocol identifier"),
    "long_version": (r"version", r"banner"),
    "packet_length": (r"packet length|length", r"packet length"),
    "kexinit": (r"kexinit", r"kexinit"),
    "mac": (r"\bmac\b|integrity|authentication tag", r"message authentication code"),
}
FAILURE_WORDS = (r"fail|bad|incorrect|invalid|mismatch|error|corrupt|too long|too large|"
                 r"truncated|short|incomplete|malformed|refus|reject|exceed|overflow|"
                 r"unsupported|illegal|wrong")


def reason(server, what):
    wombat, sshd = TOPICS[what]
    topic = sshd if server.kind == "sshd" else wombat
    return rf"^(?=.*(?:{topic})).*(?:{FAILURE_WORDS})"


# ------------------------------------------------------------ raw helpers

def name_list(names):
    data = ",".join(names).encode()
    return struct.pack(">I", len(data)) + data


def kexinit_payload():
    lists = [
        ["curve25519-sha256", "ecdh-sha2-nistp256"],          # kex
        ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512"],  # host key
        ["aes128-ctr"], ["aes128-ctr"],                       # ciphers
        ["hmac-sha2-256"], ["hmac-sha2-256"],                 # macs
        ["none"], ["none"],                                   # compression
        [], [],                                               # languages
    ]
    return (bytes([MSG_KEXINIT]) + os.urandom(16)
            + b"".join(name_list(l) for l in lists) + b"\x00" + b"\x00" * 4)


def plain_packet(payload):
    """Unencrypted binary packet (RFC 4253 6): block size 8, >= 4 padding."""
    pad = 8 - (5 + len(payload)) % 8
    if pad < 4:
        pad += 8
    return struct.pack(">IB", 1 + len(payload) + pad, pad) + payload + os.urandom(pad)


def connect(server):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    s.settimeout(10)
    return s


def read_version(sock):
    """Read lines until the server's SSH- version line; return it."""
    data = b""
    while True:
        while b"\n" not in data:
            chunk = sock.recv(4096)
            assert chunk, "server closed before sending its version"
            data += chunk
        line, data = data.split(b"\n", 1)
        if line.startswith(b"SSH-"):
            return line, data


def closed_by_server(sock, timeout=10):
    """True when the server closes the connection within timeout (anything
    it sends before closing, e.g. a DISCONNECT, is read and ignored)."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    return False


def handshake_to_kexinit(server):
    """Version exchange plus our valid KEXINIT; returns the socket."""
    s = connect(server)
    s.sendall(CLIENT_VERSION)
    read_version(s)
    s.sendall(plain_packet(kexinit_payload()))
    return s


def assert_rejected(server, sock, mark, what):
    try:
        assert closed_by_server(sock), "server kept the connection open"
    finally:
        sock.close()
    pattern = reason(server, what)
    assert server.wait_log(pattern, since=mark), \
        f"log lacks /{pattern}/:\n{server.log(mark)[-3000:]}"
    assert_good_login(server)


# ------------------------------------------------------------------ tests

def test_garbage_instead_of_version(server):
    mark = server.mark()
    s = connect(server)
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    assert_rejected(server, s, mark, "bad_version")


def test_version_line_too_long(server):
    if server.kind == "sshd":
        pytest.skip("OpenSSH accepts version lines up to 8 KiB; RFC 4253 says 255")
    mark = server.mark()
    s = connect(server)
    s.sendall(b"SSH-2.0-" + b"A" * 300 + b"\r\n")
    assert_rejected(server, s, mark, "long_version")


def test_huge_packet_length(server):
    mark = server.mark()
    s = handshake_to_kexinit(server)
    s.sendall(struct.pack(">I", 0xFFFFFFFF) + b"\x04" + b"\x00" * 27)
    assert_rejected(server, s, mark, "packet_length")


def test_truncated_kexinit(server):
    mark = server.mark()
    s = connect(server)
    s.sendall(CLIENT_VERSION)
    read_version(s)
    full = kexinit_payload()
    cut = full[:1 + 16 + 30]         # type, cookie, part of the first name-list
    s.sendall(plain_packet(cut))
    assert_rejected(server, s, mark, "kexinit")


def test_kexinit_name_list_overruns_packet(server):
    """A name-list length pointing past the end of the packet."""
    mark = server.mark()
    s = connect(server)
    s.sendall(CLIENT_VERSION)
    read_version(s)
    payload = bytes([MSG_KEXINIT]) + os.urandom(16) + struct.pack(">I", 0x7FFFFFF0) + b"curve"
    s.sendall(plain_packet(payload))
    assert_rejected(server, s, mark, "kexinit")


@pytest.mark.parametrize("cipher,mac,mac_len", [
    ("aes128-ctr", "hmac-sha2-256-etm@openssh.com", 32),
    ("aes128-gcm@openssh.com", "hmac-sha2-256", 16),
    ("aes192-ctr", "hmac-sha1-etm@openssh.com", 20),
])
def test_corrupted_encrypted_packet(server, cipher, mac, mac_len):
    relay = CorruptingRelay(server.port, mac_len=mac_len, after=20000)
    mark = server.mark()
    relayed = type("Relayed", (), {"port": relay.port})()
    argv = ssh_argv(relayed, "cat > /dev/null",
                    opts=[f"Ciphers={cipher}", f"MACs={mac}", "Compression=no"])
    try:
        r = subprocess.run(argv, input=os.urandom(1 << 20), capture_output=True,
                           timeout=30)
    finally:
        relay.close()
    assert relay.flipped, "relay never corrupted a packet"
    assert r.returncode == 255, r.stderr
    pattern = reason(server, "mac")
    assert server.wait_log(pattern, since=mark), \
        f"log lacks /{pattern}/:\n{server.log(mark)[-3000:]}"
    assert_good_login(server)


@pytest.mark.skipif(SERVER_KIND != "wombatd", reason="runs wombatd -i itself")
def test_inetd_mode_exits_255_on_a_protocol_error(keys):
    """As sshd: a connection in inetd mode (-i) that ends in an error (here a
    client speaking SSH-1.5) makes wombatd exit 255, which inetd-style
    wrappers look at; the reason is logged."""
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen([WOMBATD, "-i", "-e", "-h", keys.host["ed25519"],
                             "-o", "PidFile=none"], stdin=theirs, stdout=theirs,
                            stderr=subprocess.PIPE)
    theirs.close()
    ours.sendall(b"SSH-1.5-OldClient\r\n")
    try:
        rc = proc.wait(timeout=15)
    finally:
        ours.close()
    log = proc.stderr.read().decode()
    assert rc == 255, log
    assert "bad protocol version identification 'SSH-1.5-OldClient'" in log
