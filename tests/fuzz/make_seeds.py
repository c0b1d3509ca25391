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
    # mlkem768x25519-sha256: C_INIT = ML-KEM-768 key (all-zero coefficients
    # pass the modulus check; then rho) || X25519 value
    ek = bytes(1152) + bytes(range(32))
    save("kexinit", "mlkem768x25519", bytes([1]) + part(kexinit(
        "mlkem768x25519-sha256,kex-strict-c-v00@openssh.com", "ssh-ed25519")) +
        part(bytes([30]) + string(ek + raw_x25519())) + part(newkeys))
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
    # One line for each kind of value the other seeds lack (10 minutes of
    # fuzzing from those alone never found an integer keyword, the penalty
    # or netblock syntax, Include, PermitOpen/Listen, ChannelTimeout, ...).
    save("config", "keywords", b"Port 22\nPort 2200\nListenAddress [::1]:2201\n"
         b"AddressFamily inet\nHostKey /etc/ssh/ssh_host_ed25519_key\n"
         b"PidFile /run/wombatd.pid\nMaxAuthTries 6\nMaxSessions 10\n"
         b"PerSourcePenalties crash:90 authfail:5 noauth:1 grace-exceeded:10 max:600 "
         b"min:15 max-sources4:65536 max-sources6:65536 overflow:permissive "
         b"overflow6:deny-all\n"
         b"PerSourceNetBlockSize 32:128\nPerSourcePenaltyExemptList 127.0.0.1,10.0.0.0/8\n"
         b"SyslogFacility AUTH\nPermitRootLogin no\nStrictModes yes\n"
         b"AuthorizedKeysFile /etc/ssh/keys/%u .ssh/authorized_keys\n"
         b"AllowUsers alice bob@192.0.2.0/24\nDenyUsers mallory@*\n"
         b"AllowGroups ssh-users\nDenyGroups nossh\nBanner /etc/issue.net\n"
         b"PermitUserEnvironment LANG,LC_*\nSetEnv LANG=C FOO=\"bar baz\"\n"
         b"AcceptEnv LC_* !LC_ALL\nPrintMotd no\nClientAliveCountMax 3\n"
         b"ChannelTimeout session=5m direct-tcpip=1h *=10m\n"
         b"UnusedConnectionTimeout 1h\nAllowTcpForwarding local\n"
         b"PermitOpen localhost:80 [::1]:*\nPermitListen 8080 localhost:9090\n"
         b"GatewayPorts clientspecified\nCloseOnChildExit yes\n"
         b"SessionKillMode mixed\nSessionKillSignal HUP\nSessionKillTimeout 3\n"
         b"SessionCgroupRoot /sys/fs/cgroup/wombat\nSessionKillFallback process-group\n"
         b"Include /nonexistent/wombat-fuzz-*.conf\nHostbasedAuthentication yes\n"
         b"GSSAPICleanupCredentials yes\nProtocol 2\n"
         b"Match LocalPort 22,2200 LocalAddress 127.0.0.1\n\tMaxAuthTries 2\n")


def wire_seeds():
    save("wire", "strings", bytes([4]) + string("hello") + bytes([10]) +
         string("zlib@openssh.com,none") + bytes([6]) + mpint(0x80ff) + bytes([11]))
    save("wire", "ints", bytes([0, 7, 1, 1, 2]) + u32(9) + bytes([3]) + bytes(8) +
         bytes([5 + 12 * 3]) + string("abc"))


def userauth_body(user, method, rest=b"", service="ssh-connection"):
    """A USERAUTH_REQUEST after its type byte (RFC 4252 s5)."""
    return string(user) + string(service) + string(method) + rest


def preauth_seeds():
    v = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"
    real = open(os.path.join(HERE, "openssh_kexinit.bin"), "rb").read()
    init_x = bytes([30]) + string(raw_x25519())
    newkeys = bytes([21])
    service = bytes([5]) + string("ssh-userauth")
    # a real client's start: KEXINIT (strict kex), ECDH_INIT, NEWKEYS, and
    # the encrypted SERVICE_REQUEST that now fails its MAC
    save("preauth", "openssh", part(v) + part(real) + part(init_x) + part(newkeys) +
         part(service))
    plain = kexinit("curve25519-sha256,ext-info-c", "ssh-ed25519")
    # without strict kex: the transport messages that may come mid-kex,
    # and the service/userauth requests refused before keys are in place
    save("preauth", "non-strict", part(b"SSH-2.0-fuzz\n") + part(plain) +
         part(bytes([2]) + string("ignored")) +
         part(bytes([4, 1]) + string("debug text") + string("en")) +
         part(bytes([3]) + u32(7)) + part(service) +
         part(bytes([50]) + userauth_body("root", "none")) + part(init_x) +
         part(newkeys))
    save("preauth", "before-kexinit", part(b"SSH-1.99-old\r\n") +
         part(bytes([2]) + string("x")) + part(bytes([80]) + string("keepalive@openssh.com") +
         bytes([1])))
    save("preauth", "disconnect", part(v) + part(plain) +
         part(bytes([1]) + u32(11) + string("bye") + string("")))
    save("preauth", "bad-version", part(b"GET / HTTP/1.1\r\n") + part(plain))
    save("preauth", "long-version", part(b"SSH-2.0-" + b"x" * 300 + b"\r\n"))
    save("preauth", "p256", part(v) + part(kexinit(
        "ecdh-sha2-nistp256,kex-strict-c-v00@openssh.com", "ecdsa-sha2-nistp256,ssh-ed25519")) +
        part(bytes([30]) + string(p256_point())) + part(newkeys))
    save("preauth", "dh14", part(v) + part(kexinit(
        "diffie-hellman-group14-sha256", "ssh-ed25519", "aes128-ctr", "hmac-sha2-256",
        "zlib@openssh.com,none")) + part(bytes([30]) + mpint((1 << 2040) + 0x1234567)) +
        part(newkeys))
    save("preauth", "no-common-alg", part(v) + part(kexinit("diffie-hellman-group1-sha1",
                                                            "ssh-dss")))
    # the client guesses an algorithm the server does not pick: its first
    # kex packet must be dropped
    save("preauth", "wrong-guess", part(v) + part(kexinit(
        "diffie-hellman-group1-sha1,curve25519-sha256", "ssh-ed25519", follows=1)) +
        part(bytes([30]) + string(b"guess")) + part(init_x) + part(newkeys))


# fuzz_userauth: its fixed session id, password and the private halves of
# the keys in its authorized_keys (checked against the harness's text)
UA_SRC = open(os.path.join(HERE, "fuzz_userauth.c")).read()
UA_SID = b"wombat-fuzz-session-id-32-bytes!"
UA_ED = ed25519.Ed25519PrivateKey.from_private_bytes(b"wombat fuzz userauth ed25519 key")
UA_ED_OLD = ed25519.Ed25519PrivateKey.from_private_bytes(b"wombat fuzz expired ed25519 key!")
UA_P256 = ec.derive_private_key(0x776f6d626174, ec.SECP256R1())


def ed_blob(k):
    return string("ssh-ed25519") + string(k.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def p256_blob(k):
    return (string("ecdsa-sha2-nistp256") + string("nistp256") + string(
        k.public_key().public_bytes(serialization.Encoding.X962,
                                    serialization.PublicFormat.UncompressedPoint)))


def signed_pk(user, key, kind):
    """A publickey request signed as RFC 4252 s7 says, over UA_SID."""
    alg = "ssh-ed25519" if kind == "ed" else "ecdsa-sha2-nistp256"
    blob = ed_blob(key) if kind == "ed" else p256_blob(key)
    assert base64.b64encode(blob).decode() in UA_SRC, "key not in fuzz_userauth.c"
    data = (string(UA_SID) + bytes([50]) + string(user) + string("ssh-connection") +
            string("publickey") + bytes([1]) + string(alg) + string(blob))
    if kind == "ed":
        sig = string(alg) + string(key.sign(data))
    else:
        r, s_ = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        sig = string(alg) + string(mpint(r) + mpint(s_))
    return userauth_body(user, "publickey", bytes([1]) + string(alg) + string(blob) +
                         string(sig))


def pk_query(user, blob, alg="ssh-ed25519"):
    return userauth_body(user, "publickey", bytes([0]) + string(alg) + string(blob))


def password(user, pw, change=0):
    return userauth_body(user, "password", bytes([change]) + string(pw))


def userauth_seeds():
    def seed(name, flags, *reqs):
        save("userauth", name, bytes([flags]) + b"".join(part(r) for r in reqs))
    good = "fuzz-password"
    seed("password", 0, userauth_body("fuzz", "none"), password("fuzz", "wrong"),
         password("fuzz", good))
    seed("pk-query-then-signed", 0, userauth_body("fuzz", "none"),
         pk_query("fuzz", ed_blob(UA_ED)), signed_pk("fuzz", UA_ED, "ed"))
    seed("pk-p256-from", 8, pk_query("fuzz", p256_blob(UA_P256), "ecdsa-sha2-nistp256"),
         signed_pk("fuzz", UA_P256, "p256"))
    seed("pk-p256-wrong-address", 0, signed_pk("fuzz", UA_P256, "p256"))
    seed("pk-expired-line", 0, signed_pk("fuzz", UA_ED_OLD, "ed"))
    seed("root-forced-commands", 3 | 8, signed_pk("root", UA_ED, "ed"),
         signed_pk("root", UA_P256, "p256"))
    seed("root-password-yes", 2, password("root", good))
    seed("root-password-no", 4, password("root", good), signed_pk("root", UA_ED, "ed"))
    seed("match-root", 5 | 8, signed_pk("root", UA_ED, "ed"), password("root", good))
    seed("match-fuzz", 5, password("fuzz", good), signed_pk("fuzz", UA_ED, "ed"))
    seed("locked", 0, password("locked", good), signed_pk("locked", UA_ED, "ed"))
    seed("expired-account", 0, password("expired", good))
    seed("noshell", 0, password("noshell", good))
    seed("empty-allowed", 2, password("empty", ""))
    seed("empty-refused", 0, password("empty", ""), password("empty", "x"))
    seed("unknown-user", 0, userauth_body("nosuchuser", "none"),
         password("nosuchuser", good), signed_pk("fuzz", UA_ED, "ed"))
    seed("max-tries", 2, *[password("fuzz", "bad%d" % i) for i in range(4)])
    seed("change-user", 0, password("fuzz", "x"), password("root", good))
    seed("other-methods", 1, userauth_body("fuzz", "keyboard-interactive",
                                           string("") + string("")),
         userauth_body("fuzz", "hostbased", string("ssh-ed25519")),
         password("fuzz", good, change=1), pk_query("fuzz", ed_blob(UA_ED)))
    seed("wrong-service", 0, userauth_body("fuzz", "none", service="ssh-userauth"))
    seed("allow-users", 3, password("fuzz", good))
    seed("allow-users-addr", 3 | 8, password("fuzz", good))
    seed("allow-groups", 6, password("root", good), signed_pk("root", UA_ED, "ed"))
    seed("banner-match", 7, userauth_body("empty", "none"), password("empty", ""))


def ch_open(rid, win=2097152, maxpkt=32768, kind="session"):
    return bytes([90]) + string(kind) + u32(rid) + u32(win) + u32(maxpkt)


def ch_req(cid, kind, want=1, rest=b""):
    return bytes([98]) + u32(cid) + string(kind) + bytes([want]) + rest


def pty_req(cid, term="xterm-256color"):
    # RFC 4254 s8 modes: VINTR=3, ECHO (53) on, ICANON (51) on, speeds, TTY_OP_END
    modes = bytes([1]) + u32(3) + bytes([53]) + u32(1) + bytes([51]) + u32(1) + \
        bytes([128]) + u32(38400) + bytes([129]) + u32(38400) + bytes([0])
    return ch_req(cid, "pty-req", 1, string(term) + u32(80) + u32(24) + u32(640) +
                  u32(480) + string(modes))


def channel_seeds():
    def seed(name, flags, *msgs):
        save("channel", name, bytes([flags]) + b"".join(part(m) for m in msgs))
    data = lambda cid, b: bytes([94]) + u32(cid) + string(b)
    adjust = lambda cid, n: bytes([93]) + u32(cid) + u32(n)
    simple = lambda t, cid: bytes([t]) + u32(cid)
    for flags, tag in ((0, "nouser"), (1, "user")):
        seed("session-" + tag, flags, ch_open(0), pty_req(0),
             ch_req(0, "env", 1, string("LANG") + string("C.UTF-8")),
             ch_req(0, "env", 1, string("PATH") + string("/evil")),
             ch_req(0, "window-change", 0, u32(100) + u32(40) + u32(0) + u32(0)),
             ch_req(0, "exec", 1, string("echo hi")), ch_req(0, "shell", 1),
             ch_req(0, "subsystem", 1, string("sftp")),
             ch_req(0, "signal", 0, string("INT")), data(0, b"input\n"),
             bytes([95]) + u32(0) + u32(1) + string(b"err"), adjust(0, 4096),
             simple(96, 0), ch_req(0, "eow@openssh.com", 0), simple(97, 0))
    seed("window-overflow", 1, ch_open(7, 0xfffffff0, 0), adjust(0, 0xffffffff),
         adjust(0, 0xffffffff), adjust(0, 1), data(0, b"x" * 100), bytes([0]),
         simple(99, 0), simple(100, 0))
    seed("data-over-window", 0, ch_open(1), data(0, b"y" * 32768), data(0, b"z" * 32769))
    seed("max-sessions", 4 | 1, ch_open(0), ch_open(1), ch_open(2), simple(97, 1),
         ch_open(3), pty_req(0), ch_req(0, "env", 1, string("LC_ALL") + string("C")),
         bytes([1]), bytes([6]), simple(97, 0))
    seed("forced-command", 8 | 3, ch_open(0), pty_req(0),
         ch_req(0, "env", 1, string("ANY") + string("thing")),
         ch_req(0, "subsystem", 1, string("sftp")), ch_req(0, "exec", 1, string("id")),
         bytes([2]), bytes([4]), bytes([7]), bytes([5]), bytes([3]))
    seed("no-sessions", 12, ch_open(0), ch_open(5, kind="direct-tcpip"),
         simple(96, 0), bytes([1]))
    seed("unknown-channel", 1, ch_open(0), data(9, b"lost"), simple(97, 0))
    seed("keepalive", 1, ch_open(0), ch_req(0, "keepalive@openssh.com", 1),
         bytes([2]), simple(100, 0), bytes([1]), ch_req(0, "x11-req", 1,
         bytes([0]) + string("MIT-MAGIC-COOKIE-1") + string("00") + u32(0)))


def forward_seeds():
    """fuzz_forward: [flags][script part] then messages (see its header)."""
    def seed(name, flags, script, *msgs):
        save("forward", name, bytes([flags]) + part(bytes(script)) +
             b"".join(part(m) for m in msgs))
    def tcpip(rid, host, port, orig="198.51.100.4", oport=50000):
        return ch_open(rid, kind="direct-tcpip") + string(host) + u32(port) + \
            string(orig) + u32(oport)
    def local(rid, path):
        return ch_open(rid, kind="direct-streamlocal@openssh.com") + string(path) + \
            string("") + u32(0)
    def glob(name, rest, want=1):
        return bytes([80]) + string(name) + bytes([want]) + rest
    data = lambda cid, b: bytes([94]) + u32(cid) + string(b)
    simple = lambda t, cid: bytes([t]) + u32(cid)
    confirm = lambda cid, rid: bytes([91]) + u32(cid) + u32(rid) + u32(65536) + u32(32768)
    ev = lambda *b: bytes(b)
    poll, expire, accept = ev(4), ev(1), lambda k=0: ev(5, k)
    seed("tcpip-connect-now", 1, [0], tcpip(0, "127.0.0.1", 80), data(0, b"GET /\r\n"),
         poll, ev(6, 0) + b"reply", poll, ev(7, 0), poll, simple(96, 0), poll,
         simple(97, 0))
    seed("tcpip-in-progress", 1, [1], tcpip(3, "::1", 8080), poll, poll, data(0, b"x"),
         ev(9, 0), poll, poll)
    seed("tcpip-refused-later", 1, [2], tcpip(0, "127.0.0.1", 9), poll, poll)
    seed("tcpip-refused-now", 1, [3, 4], tcpip(0, "127.0.0.1", 9), tcpip(1, "10.0.0.1", 22))
    seed("tcpip-lookup", 1, [0, 0], tcpip(0, "example.org", 443), poll, poll,
         data(0, b"hello"), poll, ev(2), poll, ev(3))
    bad_answer = ev(8) + u32(0) + u32(1) + string(b"\x02\x00")
    gai_error = ev(8) + u32(0xfffffffe) + u32(0)
    seed("tcpip-lookup-answers", 1, [0, 0, 0], bad_answer, tcpip(0, "a.example", 80), poll,
         gai_error, tcpip(1, "b.example", 80), poll, ev(8) + u32(0) + u32(9), tcpip(2, "c", 1),
         poll)
    seed("tcpip-lookup-timeout", 1, [6, 7], tcpip(0, "slow.example", 80), poll, expire,
         tcpip(1, "nofork.example", 80), ev(10))
    seed("tcpip-permitopen", 1 | 4, [0, 0], tcpip(0, "10.0.0.1", 25),
         tcpip(1, "127.0.0.1", 25), tcpip(2, "localhost", 22), tcpip(3, "any.example", 443),
         tcpip(4, "::1", 80), poll)
    seed("tcpip-key-options", 3, [0], tcpip(0, "127.0.0.1", 8080), tcpip(1, "127.0.0.1", 80),
         glob("tcpip-forward", string("localhost") + u32(0)),
         glob("tcpip-forward", string("0.0.0.0") + u32(0)))
    seed("tcpip-no-port-forwarding", 3 | 16, [], tcpip(0, "127.0.0.1", 8080),
         glob("tcpip-forward", string("localhost") + u32(0)))
    seed("tcpip-bad-target", 1, [], tcpip(0, "", 80), tcpip(1, "127.0.0.1", 0),
         tcpip(2, "127.0.0.1", 70000), tcpip(3, "a\x00b", 80), ch_open(4, kind="direct-tcpip"))
    seed("remote-port0", 1, [0, 0, 0, 5], glob("tcpip-forward", string("localhost") + u32(0)),
         accept(0), confirm(0, 7), data(0, b"from client"), poll, ev(6, 1) + b"to client",
         poll, ev(7, 1), poll, simple(96, 0), poll, simple(97, 0),
         glob("cancel-tcpip-forward", string("localhost") + u32(30000)))
    seed("remote-fixed-port", 1 | 4, [0, 1, 0, 0], glob("tcpip-forward", string("") + u32(8080)),
         glob("tcpip-forward", string("localhost") + u32(8081)), accept(1),
         bytes([92]) + u32(0) + u32(2) + string("no") + string(""),
         glob("cancel-tcpip-forward", string("") + u32(8080)),
         glob("cancel-tcpip-forward", string("") + u32(8080)))
    seed("remote-clientspecified", 1, [0, 0, 2], glob("tcpip-forward", string("192.0.2.1") + u32(2222)),
         glob("tcpip-forward", string("name.example") + u32(2223)),
         glob("tcpip-forward", string("*") + u32(2224)), glob("tcpip-forward", string("::1") + u32(80)))
    seed("remote-refused", 1 | 12, [], glob("tcpip-forward", string("localhost") + u32(0)),
         glob("streamlocal-forward@openssh.com", string("/tmp/fuzz.sock")))
    seed("streamlocal-forward", 1, [0, 0], glob("streamlocal-forward@openssh.com", string("/tmp/fuzz-fwd.sock")),
         accept(0), confirm(0, 1), data(0, b"unix"), poll, simple(97, 0),
         glob("cancel-streamlocal-forward@openssh.com", string("/tmp/fuzz-fwd.sock")),
         glob("streamlocal-forward@openssh.com", string("relative")))
    seed("streamlocal-open", 1, [0, 3], local(0, "/run/fuzz.sock"), data(0, b"x"), poll,
         local(1, "/run/fuzz2.sock"), local(2, "not/absolute"), simple(97, 0))
    seed("streamlocal-local-only", 1 | 8, [0], local(0, "/run/fuzz.sock"),
         tcpip(1, "127.0.0.1", 22), glob("tcpip-forward", string("") + u32(0), want=0))
    many = [glob("tcpip-forward", string("localhost") + u32(0)) for _ in range(34)]
    seed("remote-too-many", 1, [0] * 80, *many)
    opens = [tcpip(i, "slow%d.example" % i, 80) for i in range(34)]
    seed("pending-too-many", 1, [6] * 8 + [0] * 30, *opens, expire)


def hostkey_seeds():
    """Private key files as ssh-keygen writes them (and a few broken ones)."""
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        for name, args in (("ed25519", ["-t", "ed25519"]),
                           ("ecdsa-256", ["-t", "ecdsa", "-b", "256"]),
                           ("ecdsa-384", ["-t", "ecdsa", "-b", "384"]),
                           ("ecdsa-521", ["-t", "ecdsa", "-b", "521"]),
                           ("rsa-1024", ["-t", "rsa", "-b", "1024"]),
                           ("ed25519-passphrase", ["-t", "ed25519", "-N", "secret"])):
            path = os.path.join(d, name)
            cmd = ["ssh-keygen", "-q", "-f", path, "-C", "fuzz@" + name] + args
            if "-N" not in args:
                cmd += ["-N", ""]
            subprocess.run(cmd, check=True)
            save("hostkey", name, open(path, "rb").read())
        ed = open(os.path.join(d, "ed25519"), "rb").read()
    save("hostkey", "crlf", ed.replace(b"\n", b"\r\n"))
    lines = ed.splitlines(keepends=True)
    save("hostkey", "truncated", b"".join(lines[:3]) + lines[-1])
    save("hostkey", "no-armour", b"".join(lines[1:-1]))
    dropbear_key_seeds()


def dropbear_key_seeds():
    """Host keys as Debian's dropbearkey writes them (no armour)."""
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        for name, args in (("dropbear-ed25519", ["-t", "ed25519"]),
                           ("dropbear-ecdsa-256", ["-t", "ecdsa", "-s", "256"]),
                           ("dropbear-rsa-1024", ["-t", "rsa", "-s", "1024"])):
            path = os.path.join(d, name)
            subprocess.run(["dropbearkey", "-f", path] + args, check=True,
                           capture_output=True)
            save("hostkey", name, open(path, "rb").read())


if __name__ == "__main__":
    import sys
    if len(sys.argv) > 1:       # only the named corpora: make_seeds.py forward
        for name in sys.argv[1:]:
            globals()[name + "_seeds"]()
        sys.exit(0)
    kex_seeds()
    packet_seeds()
    auth_seeds()
    config_seeds()
    wire_seeds()
    preauth_seeds()
    userauth_seeds()
    channel_seeds()
    hostkey_seeds()
    forward_seeds()
