"""A TCP relay between a client and the server that corrupts one byte of
the client->server stream inside an encrypted packet body.

It follows the SSH packet framing, which works for transports whose packet
length stays in the clear: aes*-gcm@openssh.com (16-byte tag) and any
cipher with an *-etm@openssh.com MAC. Before the client's NEWKEYS packets
are plain; after it each packet carries `mac_len` trailing bytes. The first
packet that starts after `after` bytes has one byte in the middle of its
encrypted body flipped, so the server must reject its MAC / tag.
"""
import socket
import struct
import threading

MSG_NEWKEYS = 21


class CorruptingRelay:
    def __init__(self, server_port, mac_len, after=20000):
        self.server_port = server_port
        self.mac_len = mac_len
        self.after = after
        self.flipped = False
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            client, _ = self.listener.accept()
        except OSError:
            return
        upstream = socket.create_connection(("127.0.0.1", self.server_port))
        back = threading.Thread(target=self._pump, args=(upstream, client), daemon=True)
        back.start()
        try:
            self._forward_corrupting(client, upstream)
        except OSError:
            pass
        finally:
            for s in (client, upstream):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            back.join(5)
            client.close()
            upstream.close()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _forward_corrupting(self, src, dst):
        reader = _Reader(src)
        line = reader.read_line()           # client version line
        dst.sendall(line)
        sent = len(line)
        encrypted = False
        while True:
            head = reader.read_exact(4)
            if head is None:
                return
            (length,) = struct.unpack(">I", head)
            if length > 256 * 1024:
                raise OSError(f"relay: unexpected packet length {length}")
            body = reader.read_exact(length + (self.mac_len if encrypted else 0))
            if body is None:
                return
            if not encrypted and body[1] == MSG_NEWKEYS:
                encrypted = True
            elif encrypted and not self.flipped and sent >= self.after:
                body = bytearray(body)
                body[length // 2] ^= 0x40
                body = bytes(body)
                self.flipped = True
            dst.sendall(head + body)
            sent += 4 + len(body)

    def close(self):
        self.listener.close()
        self.thread.join(10)


class _Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            return False
        self.buf += data
        return True

    def read_line(self):
        while b"\n" not in self.buf:
            if not self._fill():
                raise OSError("relay: no version line")
        i = self.buf.index(b"\n") + 1
        line, self.buf = self.buf[:i], self.buf[i:]
        return line

    def read_exact(self, n):
        while len(self.buf) < n:
            if not self._fill():
                return None
        out, self.buf = self.buf[:n], self.buf[n:]
        return out
