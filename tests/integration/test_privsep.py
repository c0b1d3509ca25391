"""Privilege separation (issue 11, src/monitor.h): each connection is a
fresh exec of wombatd (the monitor, root) and a sandboxed pre-auth child.
These tests look at the processes from /proc while a client sits before
authentication, search the child's memory for the host private keys, make
the child break its sandbox and its protocol with the monitor (through the
test-only tests/tools/wombatd_sbtest), and log in afterwards."""
import os
import pwd
import re
import socket
import subprocess
import time

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization

from conftest import (IS_ROOT, USER as USER_NAME, WOMBATD, SANITIZED, Server, assert_good_login, built,
                      ssh_argv,
                      free_port, server_argv, ssh)

pytestmark = pytest.mark.skipif(not IS_ROOT, reason="reads other processes' /proc as root")

PRIVSEP_DIR = "/var/lib/wombat/empty"
SBTEST = built("tests", "tools", "wombatd_sbtest")
NOUSER = built("tests", "tools", "wombatd_nouser")


def built_with_seccomp():
    """What -T says about this build (./configure --without-seccomp: no)."""
    r = subprocess.run([WOMBATD, "-T", "-f", "/dev/null"], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 0, r.stderr
    said = [l for l in r.stdout.splitlines() if l.startswith("# seccomp:")]
    assert said and said[0] in ("# seccomp: yes", "# seccomp: no (built --without-seccomp)"), \
        r.stdout[-300:]
    return said[0] == "# seccomp: yes"


SECCOMP = built_with_seccomp()
SECCOMP_MODE = "2" if SECCOMP else "0"


# ------------------------------------------------------------- processes

def children(pid):
    """Pids whose parent is pid."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            out.append(int(name))
    return out


def status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def wait_for(fn, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    return fn()


class PreauthClient:
    """A paramiko client that completes the key exchange and then waits, as
    a user at the password prompt would."""

    def __init__(self, server):
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        self.t = paramiko.Transport(self.sock)
        self.t.start_client(timeout=10)

    def close(self):
        self.t.close()


def monitor_and_child(server, client):
    """(monitor pid, pre-auth child pid) of client's connection, found by
    its source port in the monitor's log line (other connections, such as
    the test harness's readiness probe, may still be starting)."""
    port = client.sock.getsockname()[1]
    m = server.wait_log(rf"\[(\d+)\]: \[127\.0\.0\.1:{port}\] Connection from", timeout=10)
    assert m, f"no connection process for port {port}:\n{server.log()}"
    mon = int(m.group(1))
    kids = wait_for(lambda: children(mon))
    assert len(kids) == 1, (mon, kids)
    return mon, kids[0]


def expected_ids(server):
    """The uid the log says the pre-auth child runs as."""
    m = server.wait_log(r"pre-auth child as uid (\d+) gid (\d+)")
    assert m, server.log()
    return int(m.group(1)), int(m.group(2))


def test_preauth_child_is_sandboxed(server):
    c = PreauthClient(server)
    try:
        mon, child = monitor_and_child(server, c)
        uid, gid = expected_ids(server)
        try:
            wombat = pwd.getpwnam("wombat")
            assert (uid, gid) == (wombat.pw_uid, wombat.pw_gid)
        except KeyError:
            assert "no user \"wombat\"" in server.log()
        st = status(child)
        assert st["Uid"].split() == [str(uid)] * 4
        assert st["Gid"].split() == [str(gid)] * 4
        assert st["Groups"].strip() == ""
        assert st["NoNewPrivs"].strip() == "1"
        assert st["Seccomp"].strip() == SECCOMP_MODE
        assert os.readlink(f"/proc/{child}/root") == PRIVSEP_DIR
        # only the client's socket (stdin/stdout of the connection role)
        # and the socketpair to the monitor
        fds = {int(fd): os.readlink(f"/proc/{child}/fd/{fd}")
               for fd in os.listdir(f"/proc/{child}/fd")}
        assert all(t.startswith("socket:") for t in fds.values()), fds
        assert len(set(fds.values())) == 2, fds
        assert fds[0] == fds[1]
        # the monitor: root, not sandboxed, a fresh exec in the connection role
        mst = status(mon)
        assert mst["Uid"].split()[0] == "0" and mst["Seccomp"].strip() == "0"
        with open(f"/proc/{mon}/cmdline", "rb") as f:
            assert b"\0-R\0" in f.read()
    finally:
        c.close()
    assert_good_login(server)


def image_base(pid):
    """Start address of the first mapping of the process's own executable."""
    exe = os.readlink(f"/proc/{pid}/exe")
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            if line.rstrip().endswith(exe):
                return int(line.split("-")[0], 16)
    return None


def test_each_connection_gets_a_fresh_layout(server):
    bases = set()
    for _ in range(2):
        c = PreauthClient(server)
        try:
            mon, _child = monitor_and_child(server, c)
            bases.add(image_base(mon))
        finally:
            c.close()
        wait_for(lambda: not children(server.pid))
    bases.add(image_base(server.pid))
    # a fork would share the listener's layout; exec gets its own (PIE)
    assert len(bases) == 3, bases


# ------------------------------------------------------ key bytes in memory

def key_patterns(path):
    """Byte strings that would betray the private key in memory."""
    with open(path, "rb") as f:
        key = serialization.load_ssh_private_key(f.read(), password=None)
    name = type(key).__name__
    if "Ed25519" in name:
        seed = key.private_bytes(serialization.Encoding.Raw,
                                 serialization.PrivateFormat.Raw,
                                 serialization.NoEncryption())
        return [seed]
    d = key.private_numbers().d if "RSA" in name else key.private_numbers().private_value
    n = (d.bit_length() + 7) // 8
    pats = [d.to_bytes(n, "big")[:32], d.to_bytes(n, "little")[:32]]
    # libtommath keeps digits of 60 (or 28) bits in 64-bit (32-bit) words
    for bits, word in ((60, 8), (28, 4)):
        digits = []
        v = d
        while v:
            digits.append(v & ((1 << bits) - 1))
            v >>= bits
        pats.append(b"".join(x.to_bytes(word, "little") for x in digits[:4]))
    return pats


SCAN_CHUNK = 16 << 20
SCAN_MAX_MAPPING = 1 << 30


def memory_has(pid, patterns):
    """Which patterns occur in the process's readable mappings. Mappings
    over 1 GiB are reservations (the sanitizer build's shadow memory), not
    data, and are passed over."""
    found = set()
    longest = max(len(p) for p in patterns)
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            start, end = (int(x, 16) for x in fields[0].split("-"))
            if "r" not in fields[1] or (len(fields) > 5 and fields[5] == "[vvar]"):
                continue
            if end - start > SCAN_MAX_MAPPING:
                continue
            prev = b""
            for off in range(start, end, SCAN_CHUNK):
                try:
                    mem.seek(off)
                    data = prev + mem.read(min(SCAN_CHUNK, end - off))
                except OSError:
                    prev = b""
                    continue
                for i, p in enumerate(patterns):
                    if p in data:
                        found.add(i)
                prev = data[-longest:]
    return found


def test_host_private_keys_not_in_preauth_memory(server, keys):
    ed = key_patterns(keys.host["ed25519"])
    rsa = key_patterns(keys.host["rsa"])
    c = PreauthClient(server)
    try:
        mon, child = monitor_and_child(server, c)
        in_child = memory_has(child, ed + rsa)
        in_monitor = memory_has(mon, ed + rsa)
    finally:
        c.close()
    # the same search finds both keys in the monitor, so it can find them
    assert 0 in in_monitor, "ed25519 seed not found in the monitor: the search is broken"
    assert any(i >= len(ed) for i in in_monitor), "RSA d not found in the monitor"
    assert in_child == set(), f"host private key bytes in the pre-auth child: {in_child}"


# ------------------------------------------------ the sandbox and the monitor

@pytest.fixture
def sbtest_server(keys, tmp_path):
    if not os.access(SBTEST, os.X_OK):
        pytest.fail(f"{SBTEST} is not built (make tests/tools/wombatd_sbtest)")
    port = free_port()
    argv = server_argv("wombatd", port, list(keys.host.values()), keys.authorized_keys, [])
    assert argv[0] == WOMBATD
    argv[0] = SBTEST
    srv = Server("wombatd", port, str(tmp_path / "sbtest.log"), argv).start()
    yield srv
    srv.stop()


def raw_version(server, version):
    """Send a version line; read until the server hangs up (or 10 s)."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    got = b""
    try:
        s.sendall(version.encode() + b"\r\n")
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    finally:
        s.close()
    return got


def test_forbidden_syscall_kills_the_child(sbtest_server):
    srv = sbtest_server
    mark = srv.mark()
    raw_version(srv, "SSH-2.0-forbidden")
    if SECCOMP:
        m = srv.wait_log(r"ended: pre-auth child killed by signal (\d+) \(SIGSYS", since=mark)
        assert m and m.group(1) == "31", srv.log(mark)
        assert "returned" not in srv.log(mark)      # open() never came back
    else:
        # without the filter the chroot still hides the file
        assert srv.wait_log(r"sbtest: open\(/etc/shadow\) returned -1", since=mark), \
            srv.log(mark)
    # the daemon serves the next client
    assert_good_login(srv)


def test_out_of_order_monitor_request_ends_the_connection(sbtest_server):
    srv = sbtest_server
    mark = srv.mark()
    raw_version(srv, "SSH-2.0-outoforder")
    assert srv.wait_log(r"monitor: transport request \(type 6\) not valid before the user "
                        r"is named: ending the connection", since=mark), srv.log(mark)
    assert srv.wait_log(r"ended: monitor request out of order", since=mark), srv.log(mark)
    assert_good_login(srv)


def test_release_build_has_no_test_hook(server):
    """The same client version is harmless to the real wombatd."""
    mark = server.mark()
    got = raw_version_then_close(server, "SSH-2.0-forbidden-outoforder")
    assert got.startswith(b"SSH-2.0-") and b"curve25519" in got
    time.sleep(0.3)
    assert "SIGSYS" not in server.log(mark) and "monitor:" not in server.log(mark)


def raw_version_then_close(server, version):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        s.sendall(version.encode() + b"\r\n")
        got = b""
        deadline = time.monotonic() + 5
        while b"curve25519" not in got and time.monotonic() < deadline:
            got += s.recv(65536)
        return got
    finally:
        s.close()


# ------------------------------------------------------ logins through it

def test_pubkey_and_rekeys_through_the_monitor(start_server, keys):
    """A rekey before authentication is signed by the monitor; after it the
    connection (and its rekeys) runs in the monitor."""
    srv = start_server(["RekeyLimit=4K"])
    try:
        r = ssh(srv, "head -c 300000 /dev/zero | wc -c", timeout=60)
        assert r.returncode == 0 and r.stdout.strip() == b"300000", r.stderr
        assert srv.wait_log(r"Accepted publickey"), srv.log()
    finally:
        srv.stop()


def test_password_through_the_monitor(start_server):
    from conftest import throwaway_user, password_login
    srv = start_server(["PasswordAuthentication=yes"])
    try:
        with throwaway_user("psprivpw", "a password login through the monitor") as user:
            subprocess.run(["chpasswd"], input=f"{user}:Pw-4-privsep\n", text=True, check=True)
            assert password_login(srv, user, "Pw-4-privsep")
            assert not password_login(srv, user, "wrong")
            assert srv.wait_log(rf"Accepted password for {user}"), srv.log()
            assert srv.wait_log(rf"Failed password for {user}"), srv.log()
    finally:
        srv.stop()


def shadow_hash(user):
    with open("/etc/shadow") as f:
        for line in f:
            fields = line.split(":")
            if fields[0] == user:
                return fields[1]
    raise AssertionError(f"{user} not in /etc/shadow")


def test_no_shadow_line_left_in_the_session_memory(start_server):
    """After a password login the connection process (root, for the whole
    session) holds no copy of the user's shadow hash, not even in freed
    heap: glibc's getspnam read shadow through a FILE buffer it freed
    unwiped, so the whole line stayed in the process's memory."""
    from conftest import throwaway_user
    srv = start_server(["PasswordAuthentication=yes"])
    try:
        with throwaway_user("psprivsh", "a password login's memory") as user:
            subprocess.run(["chpasswd"], input=f"{user}:Pw-4-shadow\n", text=True, check=True)
            hashed = shadow_hash(user).encode()
            sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            t = paramiko.Transport(sock)
            try:
                t.start_client(timeout=10)
                t.auth_password(user, "Pw-4-shadow")
                assert t.is_authenticated()
                port = sock.getsockname()[1]
                m = srv.wait_log(rf"\[(\d+)\]: \[127\.0\.0\.1:{port}\] Connection from")
                assert m, srv.log()
                assert srv.wait_log(rf"Accepted password for {user}"), srv.log()
                found = memory_has(int(m.group(1)), [hashed, b"Pw-4-shadow"])
            finally:
                t.close()
    finally:
        srv.stop()
    assert 0 not in found, "the user's shadow hash is in the session's memory"
    assert 1 not in found, "the password is in the session's memory"


def test_start_up_log_names_the_sandbox(server):
    """-T (built_with_seccomp) and the start-up log agree on the filter."""
    word = "yes" if SECCOMP else r"no \(built --without-seccomp\)"
    assert re.search(r"privilege separation: pre-auth child as uid \d+ gid \d+, chroot "
                     + re.escape(PRIVSEP_DIR) + r", seccomp " + word, server.log())


def test_non_root_keeps_seccomp_and_key_separation(tmp_path):
    """Run by a normal user: no chroot or uid change, but the child is
    still filtered, has no_new_privs and no host private key."""
    from conftest import throwaway_user, SANITIZER_ENV
    with throwaway_user("psnonroot", "a daemon run by a normal user") as user:
        pw = pwd.getpwnam(user)
        port = free_port()
        argv = ["/usr/bin/env", "-i", "PATH=/usr/bin:/bin", f"HOME={pw.pw_dir}"]
        argv += [f"{k}={v}" for k, v in SANITIZER_ENV.items()]
        argv += ["/usr/sbin/runuser", "-u", user, "--", WOMBATD, "-D", "-e", "-p", str(port),
                 "-o", "ListenAddress=127.0.0.1", "-o", "PidFile=none", "-o", "LogLevel=VERBOSE"]
        srv = Server("wombatd", port, str(tmp_path / "nonroot.log"), argv).start()
        try:
            text = srv.log()
            assert "not running as root" in text and "seccomp still apply" in text, text
            keyfile = os.path.join(pw.pw_dir, ".config/wombat/ssh_host_ed25519_key")
            seed = key_patterns(keyfile)
            c = PreauthClient(srv)
            try:
                mon, child = monitor_and_child(srv, c)
                st = status(child)
                assert st["Uid"].split() == [str(pw.pw_uid)] * 4
                assert st["NoNewPrivs"].strip() == "1"
                assert st["Seccomp"].strip() == SECCOMP_MODE
                assert os.readlink(f"/proc/{child}/root") == "/"
                assert memory_has(mon, seed) == {0}
                assert memory_has(child, seed) == set()
            finally:
                c.close()
        finally:
            srv.stop()


def test_rekey_before_login_is_signed_by_the_monitor(server, keys):
    """A client rekeys before authenticating: the pre-auth child asks the
    monitor for the second signature; the session id stays the first
    exchange's, so the login (and the hand-over) still work."""
    c = PreauthClient(server)
    mark = server.mark()
    try:
        c.t.renegotiate_keys()
        key = paramiko.Ed25519Key.from_private_key_file(keys.user["ed25519"])
        c.t.auth_publickey(USER_NAME, key)
        ch = c.t.open_session(timeout=10)
        ch.exec_command("echo after-rekey")
        assert ch.makefile().read().strip() == b"after-rekey"
    finally:
        c.close()
    log = server.log(mark)
    assert len(re.findall(r"key exchange done", log)) >= 1, log
    assert log.index("key exchange done") < log.index("Accepted publickey"), log


# ------------------------------------------- libraries loaded at first use

# Reached by dlopen at their first use in a dynamic build (crypto/ltc_dyn.h,
# account.c, packet.c): libtomcrypt (with libtommath and libgmp under it),
# libcrypt and zlib. A build that links one (static, sanitized, or no SONAME
# found by configure) names it in its NEEDED entries.
LAZY_LIBS = ("libtomcrypt.so", "libtommath.so", "libgmp.so", "libcrypt.so", "libz.so")


def needed_libs(path):
    r = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", r.stdout)


def lazy_lib_of(name):
    return next((lib for lib in LAZY_LIBS if name.startswith(lib)), None)


def loaded_lazily():
    """The LAZY_LIBS this wombatd does not link (and libtomcrypt's own
    dependencies with libtomcrypt)."""
    linked = {lazy_lib_of(n) for n in needed_libs(WOMBATD)}
    lazy = {lib for lib in LAZY_LIBS if lib not in linked}
    if "libtomcrypt.so" not in lazy:
        lazy -= {"libtommath.so", "libgmp.so"}
    return lazy


def mapped_lazy_libs(pid):
    with open(f"/proc/{pid}/maps") as f:
        names = {os.path.basename(line.split()[-1]) for line in f if ".so" in line}
    return {lazy_lib_of(n) for n in names} - {None}


def session_monitor(srv, key, opts=()):
    """Log in with a command that says it started and then sleeps: (client,
    pid of the connection process serving it)."""
    p = subprocess.Popen(ssh_argv(srv, "echo started; exec sleep 30", key=key, opts=opts),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    line = p.stdout.readline()
    if line != b"started\n":
        p.kill()
        _, err = p.communicate()
        pytest.fail(f"login failed: {err!r}\n{srv.log()[-3000:]}")
    mons = [m for m in children(srv.pid) if children(m)]
    if len(mons) != 1:
        end_session(p)   # the client would outlive the failed check
        pytest.fail(f"not one connection process with a session: {mons}")
    return p, mons[0]


def end_session(p):
    p.kill()
    p.communicate()


def test_ed25519_session_maps_no_library_loaded_at_first_use(start_server, keys):
    """Ed25519, RSA and ECDSA host keys, an Ed25519 user key, curve25519:
    the connection process signed with its Ed25519 host key and never
    needed libtomcrypt (its RSA and ECDSA keys stay unparsed), libcrypt or
    zlib, and does not map them (about 50 KiB of private memory a
    session)."""
    srv = start_server()
    try:
        p, mon = session_monitor(srv, keys.user["ed25519"], ["KexAlgorithms=curve25519-sha256"])
        try:
            assert not (mapped_lazy_libs(mon) & loaded_lazily()), \
                (mapped_lazy_libs(mon), loaded_lazily())
        finally:
            end_session(p)
    finally:
        srv.stop()


@pytest.mark.parametrize("kex,hostkey_alg,user_key,monitor_loads", [
    # the pre-auth child runs these exchanges: it loaded libtomcrypt
    # before its sandbox, and the monitor still has no need of it
    ("ecdh-sha2-nistp256", "ssh-ed25519", "ed25519", False),
    ("diffie-hellman-group14-sha256", "ssh-ed25519", "ed25519", False),
    ("sntrup761x25519-sha512@openssh.com", "ssh-ed25519", "ed25519", False),
    # the monitor verifies an RSA or ECDSA user signature itself, and signs
    # with an RSA or ECDSA host key: it loads libtomcrypt then, parses the
    # key, and the login goes on
    ("curve25519-sha256", "ssh-ed25519", "rsa", True),
    ("curve25519-sha256", "ssh-ed25519", "ecdsa256", True),
    ("curve25519-sha256", "rsa-sha2-256", "ed25519", True),
    ("curve25519-sha256", "ecdsa-sha2-nistp256", "ed25519", True),
])
def test_libtomcrypt_is_loaded_where_first_needed(start_server, keys, kex, hostkey_alg,
                                                  user_key, monitor_loads):
    """The client offers only kex and hostkey_alg (so the login used them)
    and user_key; the server has all three host keys."""
    srv = start_server()
    try:
        p, mon = session_monitor(srv, keys.user[user_key], [
            f"KexAlgorithms={kex}", f"HostKeyAlgorithms={hostkey_alg}"])
        try:
            if "libtomcrypt.so" in loaded_lazily():
                assert ("libtomcrypt.so" in mapped_lazy_libs(mon)) == monitor_loads, \
                    mapped_lazy_libs(mon)
        finally:
            end_session(p)
    finally:
        srv.stop()


def libtomcrypt_file():
    """The file the dynamic loader opens for libtomcrypt's SONAME."""
    r = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, timeout=10)
    m = re.search(r"^\s*libtomcrypt\.so\.\d+ \(([^)]*)\) => (\S+)$", r.stdout, re.M)
    assert m, "libtomcrypt is not in the loader's cache"
    return os.path.realpath(m.group(2))


def test_listener_refuses_to_start_without_libtomcrypt(keys, tmp_path):
    """libtomcrypt hidden (an empty file bind-mounted over it in a mount
    namespace of the test's own): wombatd does not start, and says which
    library (its own message in a build that loads it; the dynamic
    loader's in one that links it)."""
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    argv = server_argv("wombatd", free_port(), [keys.host["ed25519"]], keys.authorized_keys, ())
    script = f'mount --bind "$1" "$2" && shift 2 && exec "$@"'
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
                        str(empty), libtomcrypt_file()] + argv,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0, r.stdout + r.stderr
    assert "libtomcrypt" in r.stdout + r.stderr, r.stdout + r.stderr


def test_connection_without_libtomcrypt_ends_and_is_logged(start_server, keys, tmp_path):
    """The library disappears after the start (the daemon's own mount
    namespace, made by the test): each connection's pre-auth child cannot
    load it before its sandbox, so the connection ends with the reason in
    the log, the daemon stays up, and logins work again once it is back."""
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    lib = libtomcrypt_file()
    port = free_port()
    argv = ["unshare", "-m", "--propagation", "private"] + server_argv(
        "wombatd", port, [keys.host["ed25519"]], keys.authorized_keys, ())
    srv = Server("wombatd", port, str(tmp_path / "log"), argv)
    srv.start()
    ns = ["nsenter", "-t", str(srv.pid), "-m"]
    try:
        subprocess.run(ns + ["mount", "--bind", str(empty), lib], check=True, timeout=10)
        mark = srv.mark()
        r = ssh(srv, "echo", "hi")
        assert r.returncode != 0 and b"hi" not in r.stdout, r
        assert srv.alive(), srv.log()
        if "libtomcrypt.so" in loaded_lazily():
            assert srv.wait_log(r"cannot load libtomcrypt\.so", since=mark), srv.log(mark)
        subprocess.run(ns + ["umount", lib], check=True, timeout=10)
        assert_good_login(srv)
    finally:
        srv.stop()


def mapped_nss_modules(pid):
    with open(f"/proc/{pid}/maps") as f:
        return {os.path.basename(line.split()[-1]) for line in f if "/libnss_" in line}


def test_missing_privsep_user_falls_back_to_an_unused_uid(keys, tmp_path):
    """A system without the pre-auth child's user (here the test-only
    tests/tools/wombatd_nouser, whose user no system has): the listener
    warns, the pre-auth child runs as an unused uid, logins work, and the
    connection process, which searched for that uid at its start, maps no
    NSS module: the search, a miss in every NSS source, ran in a child
    (else libnss_systemd, libcap and libm stay mapped in every session where
    nsswitch.conf names systemd)."""
    if not os.access(NOUSER, os.X_OK):
        pytest.fail(f"{NOUSER} is not built (make tests/tools/wombatd_nouser)")
    port = free_port()
    argv = server_argv("wombatd", port, list(keys.host.values()), keys.authorized_keys, [])
    argv[0] = NOUSER
    srv = Server("wombatd", port, str(tmp_path / "nouser.log"), argv).start()
    try:
        m = srv.wait_log(r'no user "wombat-test-no-such-user" .*runs as unused uid (\d+)')
        assert m, srv.log()
        uid = int(m.group(1))
        assert uid >= 0x7ffe0000, uid
        with pytest.raises(KeyError):
            pwd.getpwuid(uid)
        c = PreauthClient(srv)
        try:
            _, child = monitor_and_child(srv, c)
            assert status(child)["Uid"].split() == [str(uid)] * 4
        finally:
            c.close()
        p, mon = session_monitor(srv, keys.user["ed25519"])
        try:
            assert mapped_nss_modules(mon) == set(), mapped_nss_modules(mon)
        finally:
            end_session(p)
    finally:
        srv.stop()
