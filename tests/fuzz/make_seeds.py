#!/usr/bin/python3
"""Write the fuzzers' seed corpora into tests/fuzz/corpus/<name>/.

Run from anywhere; needs python3-cryptography (for real curve points and
signatures). openssh_kexinit.bin is the first payload an OpenSSH 9.2p1
client sent (captured from `ssh` against a listener that logged it)."""
import base64
import os
import struct
import zlib

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def u32(n):
    return struct.pack(">I", n)


def string(b):
    if isinstance(b, str):
        b = b.encode()
    return u32(len(b)) + b


def mpint(n):
    if n == 0:
        return u32(0)
    b = n.to_bytes((n.bit_length() + 8) // 8, "big")
    return string(b)


def part(b):
    return struct.pack(">H", len(b)) + b


def save(name, fname, data):
    d = os.path.join(CORPUS, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, fname), "wb") as f:
        f.write(data)


def kexinit(kex, hostkey, cipher="chacha20-poly1305@openssh.com",
            mac="hmac-sha2-256-etm@openssh.com", comp="none", follows=0):
    lists = [kex, hostkey, cipher, cipher, mac, mac, comp, comp, "", ""]
    return (bytes([20]) + bytes(range(16)) + b"".join(string(x) for x in lists)
            + bytes([follows]) + u32(0))


def raw_x25519():
    k = x25519.X25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
    return k.public_key().public_bytes(serialization.Encoding.Raw,
                                       serialization.PublicFormat.Raw)


def p256_point():
    k = ec.derive_private_key(12345, ec.SECP256R1())
    return k.public_key().public_bytes(serialization.Encoding.X962,
                                       serialization.PublicFormat.UncompressedPoint)


def kex_seeds():
    real = open(os.path.join(HERE, "openssh_kexinit.bin"), "rb").read()
    init_x = bytes([30]) + string(raw_x25519())
    newkeys = bytes([21])
    # OpenSSH's own KEXINIT, exchange, NEWKEYS, then a rekey round
    save("kexinit", "openssh-x25519", bytes([1]) + part(real) + part(init_x) +
         part(newkeys) + part(kexinit("curve25519-sha256", "ssh-ed25519")) +
         part(init_x) + part(newkeys))
    save("kexinit", "openssh-first", bytes([0]) + part(real))
    strict = "ecdh-sha2-nistp256,ext-info-c,kex-strict-c-v00@openssh.com"
    save("kexinit", "p256", bytes([1]) + part(kexinit(strict, "ecdsa-sha2-nistp256")) +
         part(bytes([30]) + string(p256_point())) + part(newkeys))
    e = (1 << 2040) + 0x123456789
    save("kexinit", "dh14-zlib", bytes([3]) + part(kexinit(
        "diffie-hellman-group14-sha256", "rsa-sha2-256", "aes128-ctr",
        "hmac-sha2-256", "zlib@openssh.com,none")) + part(bytes([30]) + mpint(e)) +
        part(newkeys))
    # a wrong guess: the first kex packet after KEXINIT must be ignored
    save("kexinit", "wrong-guess", bytes([1]) + part(kexinit(
        "sntrup761x25519-sha512@openssh.com,curve25519-sha256", "ssh-ed25519",
        follows=1)) + part(bytes([30]) + string(b"guess")) + part(init_x) +
        part(newkeys))


def pkt_none(payload, block=8):
    padlen = block - (5 + len(payload)) % block
    if padlen < 4:
        padlen += block
    return u32(1 + len(payload) + padlen) + bytes([padlen]) + payload + bytes(padlen)


def packet_seeds():
    req = bytes([5]) + string("ssh-userauth")
    auth = bytes([50]) + string("root") + string("ssh-connection") + string("none")
    save("packet", "none", bytes([0, 0]) + pkt_none(req) + pkt_none(auth))
    save("packet", "none-chunked", bytes([0, 5]) + pkt_none(req) + pkt_none(auth))
    z = zlib.compressobj()
    zs = [z.compress(p) + z.flush(zlib.Z_SYNC_FLUSH) for p in (req, auth, auth)]
    save("packet", "none-zlib", bytes([2, 0]) + b"".join(pkt_none(c) for c in zs))
    for combo in range(1, 8):
        save("packet", "sealed-%d" % combo,
             bytes([1 | combo << 2, 0]) + part(req) + part(auth))
        save("packet", "sealed-zlib-%d" % combo,
             bytes([3 | combo << 2, 7]) + b"".join(part(c) for c in zs))
    save("packet", "sealed-flip", bytes([1 | 4 << 2, 0x80]) + part(req))


FIXED = open(os.path.join(HERE, "fuzz_auth.c")).read().split("fixed_lines[] = {")[1]
FIXED = [l.strip().strip('",') for l in FIXED.split("};")[0].strip().splitlines()]
SIGNED = b"wombat fuzz: data being signed\0\0"


def auth_seeds():
    ed, ec_, rs = FIXED
    keys = ("command=\"echo hi\",no-pty,from=\"192.0.2.*,!10.0.0.1\","
            "environment=\"LANG=C\",permitopen=\"localhost:22\","
            "expiry-time=\"20991231\" %s fuzz@example\n"
            "# a comment\n\nrestrict,pty,port-forwarding %s\n"
            "no-agent-forwarding,no-X11-forwarding,no-user-rc %s rsa\n") % (ed, ec_, rs)
    save("auth", "authorized_keys", b"\0" + keys.encode())
    for i, line in enumerate(FIXED):
        blob = base64.b64decode(line.split()[1])
        save("auth", "blob-%d" % i, b"\1" + blob)
        save("auth", "line-%d" % i, b"\3" + line.encode() + b" comment")
    # valid signatures over the data fuzz_auth verifies
    k = ed25519.Ed25519PrivateKey.generate()
    pub = k.public_key().public_bytes(serialization.Encoding.Raw,
                                      serialization.PublicFormat.Raw)
    blob = string("ssh-ed25519") + string(pub)
    sig = string("ssh-ed25519") + string(k.sign(SIGNED))
    save("auth", "verify-ed25519", b"\2" + part(blob) + sig)
    k = ec.generate_private_key(ec.SECP256R1())
    pt = k.public_key().public_bytes(serialization.Encoding.X962,
                                     serialization.PublicFormat.UncompressedPoint)
    blob = string("ecdsa-sha2-nistp256") + string("nistp256") + string(pt)
    r, s = decode_dss_signature(k.sign(SIGNED, ec.ECDSA(hashes.SHA256())))
    sig = string("ecdsa-sha2-nistp256") + string(mpint(r) + mpint(s))
    save("auth", "verify-p256", b"\2" + part(blob) + sig)
    k = rsa.generate_private_key(65537, 2048)
    n = k.public_key().public_numbers()
    blob = string("ssh-rsa") + mpint(n.e) + mpint(n.n)
    sig = string("rsa-sha2-256") + string(k.sign(SIGNED, padding.PKCS1v15(),
                                                 hashes.SHA256()))
    save("auth", "verify-rsa", b"\2" + part(blob) + sig)


def config_seeds():
    save("config", "minimal", b"Port 22\nPermitRootLogin prohibit-password\n"
         b"PasswordAuthentication no\nAuthorizedKeysFile .ssh/authorized_keys\n"
         b"Subsystem sftp internal-sftp\n")
    save("config", "match", b"Port 2222\nListenAddress 0.0.0.0:2022\n"
         b"AcceptEnv LANG LC_*\nCiphers aes128-ctr,aes256-gcm@openssh.com\n"
         b"ClientAliveInterval 30\nMaxStartups 10:30:60\n"
         b"Match User fuzz Address 192.0.2.0/24\n\tForceCommand /bin/true\n"
         b"\tPermitTTY no\nMatch Group wheel,!users Host *.example\n"
         b"\tAllowTcpForwarding no\nMatch all\n\tX11Forwarding no\n")
    save("config", "options", b"LogLevel=DEBUG3\nKexAlgorithms -ecdh-sha2-nistp521\n"
         b"MACs +hmac-sha2-512\nHostKeyAlgorithms ^ssh-ed25519\n"
         b"RekeyLimit 1G 1h\nLoginGraceTime 2m\nUseDNS \"no\"\n")


def wire_seeds():
    save("wire", "strings", bytes([4]) + string("hello") + bytes([10]) +
         string("zlib@openssh.com,none") + bytes([6]) + mpint(0x80ff) + bytes([11]))
    save("wire", "ints", bytes([0, 7, 1, 1, 2]) + u32(9) + bytes([3]) + bytes(8) +
         bytes([5 + 12 * 3]) + string("abc"))


if __name__ == "__main__":
    kex_seeds()
    packet_seeds()
    auth_seeds()
    config_seeds()
    wire_seeds()
