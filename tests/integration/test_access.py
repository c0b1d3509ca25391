"""Access decisions fail closed, proven by logging in: Match applies before
authentication, account state, USER@HOST, PubkeyAcceptedAlgorithms, the
userauth protocol rules, equal work for unknown users, and connections
that cannot pin the server."""
import os
import shutil
import socket
import subprocess
import time

import paramiko
import pytest

from conftest import (IS_ROOT, SANITIZED, USER, WOMBATD, assert_good_login, install_key,
                      ssh, throwaway_user)
from conftest import password_login as conftest_password_login

needs_root = pytest.mark.skipif(not IS_ROOT, reason="needs root (throw-away users)")
PASSWORD = "Wombat-test-pw-7"


def denied(r):
    return r.returncode == 255 and b"Permission denied" in r.stderr


def config_with_match(criterion, *lines):
    body = "".join(f"    {line}\n" for line in lines)
    return f"Match {criterion}\n{body}"


def dump(conf_text, tmp_path, spec):
    conf = tmp_path / "dump.conf"
    conf.write_text(conf_text)
    r = subprocess.run([WOMBATD, "-T", "-f", str(conf), "-C", spec],
                       capture_output=True, text=True, check=True)
    return r.stdout


# ------------------------------------------------ Match before authentication

# The four cases the issue found open, each as it appears in -T output.
REFUSING = [
    ("PubkeyAuthentication no", "pubkeyauthentication no"),
    ("PermitRootLogin no", "permitrootlogin no"),
    ("AuthorizedKeysFile /nonexistent", "authorizedkeysfile /nonexistent"),
    (f"DenyUsers {USER}", f"denyusers {USER}"),
]


@pytest.mark.parametrize("line,shown", REFUSING, ids=[r[0].split()[0] for r in REFUSING])
def test_match_address_refuses_before_auth(start_server, tmp_path, line, shown):
    conf = config_with_match("Address 127.0.0.1", line)
    if line.startswith("PermitRootLogin") and USER != "root":
        pytest.skip("PermitRootLogin needs the tests to run as root")
    srv = start_server(config=conf)
    r = ssh(srv, "echo", "in")
    assert denied(r), f"login went through a Match that refuses it: {r}\n{srv.log()[-3000:]}"
    assert shown in dump(conf, tmp_path, f"user={USER},addr=127.0.0.1")
    srv.stop()


@pytest.mark.parametrize("line,shown", REFUSING, ids=[r[0].split()[0] for r in REFUSING])
def test_match_elsewhere_lets_in(start_server, tmp_path, line, shown):
    conf = config_with_match("Address 10.0.0.0/8", line)
    srv = start_server(config=conf)
    r = ssh(srv, "echo", "in")
    assert r.returncode == 0 and r.stdout == b"in\n", r
    assert shown not in dump(conf, tmp_path, f"user={USER},addr=127.0.0.1")
    srv.stop()


def set_password(name):
    subprocess.run(["chpasswd"], input=f"{name}:{PASSWORD}\n", text=True, check=True)


def password_login(server, user, password=PASSWORD):
    return conftest_password_login(server, user, password)


@needs_root
def test_bastion_idiom_password_only_inside(start_server):
    """`Match Address !10.0.0.0/8` + `PasswordAuthentication no`: from
    outside 10/8 (here: loopback) passwords are refused."""
    with throwaway_user("wbaccpw", "password login") as name:
        set_password(name)
        outside = start_server(config=config_with_match("Address !10.0.0.0/8",
                                                        "PasswordAuthentication no"))
        assert not password_login(outside, name)
        assert outside.wait_log(r"Failed password for " + name)
        outside.stop()
        inside = start_server(config=config_with_match("Address !127.0.0.0/8",
                                                       "PasswordAuthentication no"))
        assert password_login(inside, name)
        assert not password_login(inside, name, "wrong-password")
        inside.stop()


# ------------------------------------------------------------ account state

@pytest.fixture(scope="module")
def home_server(start_server):
    srv = start_server(["PrintMotd=no"], authorized_keys="%h/.ssh/authorized_keys")
    yield srv
    srv.stop()


def make_unusable(name, state, tmp_path):
    days = int(time.time() // 86400)
    if state == "locked":
        subprocess.run(["usermod", "-L", name], check=True)
    elif state == "expired":
        subprocess.run(["chage", "-E", "0", name], check=True)
    elif state == "must-change":
        subprocess.run(["chage", "-d", "0", name], check=True)
    elif state == "too-old":
        subprocess.run(["chage", "-d", str(days - 30), "-M", "10", name], check=True)
    elif state == "no-shell":
        subprocess.run(["usermod", "-s", "/nonexistent/wbsh", name], check=True)
    elif state == "shell-not-executable":
        shell = tmp_path / "noexec-shell"
        shell.write_text("#!/bin/sh\n")
        os.chmod(shell, 0o644)
        os.chmod(tmp_path, 0o755)
        subprocess.run(["usermod", "-s", str(shell), name], check=True)


ACCOUNT_STATES = {
    "locked": r"account is locked",
    "expired": r"account has expired",
    "must-change": r"password has expired \(must be changed\)",
    "too-old": r"password has expired \(older than 10 days\)",
    "no-shell": r"shell /nonexistent/wbsh does not exist",
    "shell-not-executable": r"shell \S+noexec-shell is not executable",
}


@needs_root
@pytest.mark.parametrize("state", list(ACCOUNT_STATES))
def test_unusable_account_refused_for_every_method(home_server, keys, tmp_path, state):
    with throwaway_user("wbaccst", "account state") as name:
        install_key(name, keys.user["ed25519"] + ".pub")
        set_password(name)
        # usable first: the same key and password get in
        r = ssh(home_server, "echo", "in", user=name)
        assert r.returncode == 0 and r.stdout == b"in\n", r
        assert password_login(home_server, name)
        make_unusable(name, state, tmp_path)
        mark = home_server.mark()
        assert denied(ssh(home_server, "echo", "in", user=name))
        assert not password_login(home_server, name)
        why = ACCOUNT_STATES[state]
        assert home_server.wait_log(rf"User {name} from 127\.0\.0\.1 not allowed because {why}",
                                    since=mark), home_server.log(mark)


# The groups are looked up only when Match Group (or Allow/DenyGroups) asks:
# the primary group and a supplementary one must both be seen, by the
# monitor and by the pre-auth child that applies the same Match.
@needs_root
@pytest.mark.parametrize("pattern,refused", [
    ("PRIMARY", True),             # the user's own group (useradd's)
    ("games", True),               # a supplementary group (usermod -aG)
    ("wlomg-none,!games", False),  # no group matches; a negation excludes
])
def test_match_group_applies_before_auth(start_server, keys, pattern, refused):
    with throwaway_user("wlomg", "Match Group") as name:
        install_key(name, keys.user["ed25519"] + ".pub")
        subprocess.run(["usermod", "-aG", "games", name], check=True)
        group = name if pattern == "PRIMARY" else pattern
        conf = config_with_match(f"Group {group}", "PubkeyAuthentication no")
        srv = start_server(["PrintMotd=no"], authorized_keys="%h/.ssh/authorized_keys",
                           config=conf)
        r = ssh(srv, "echo", "in", user=name)
        if refused:
            assert denied(r), f"Match Group {group} did not apply: {r}\n{srv.log()[-3000:]}"
        else:
            assert r.returncode == 0 and r.stdout == b"in\n", r
        srv.stop()


@needs_root
def test_nologin_refuses_users_not_root(home_server, keys, start_server):
    with throwaway_user("wbaccnl", "/etc/nologin") as name:
        install_key(name, keys.user["ed25519"] + ".pub")
        assert not os.path.exists("/etc/nologin"), "a real /etc/nologin is in place"
        try:
            with open("/etc/nologin", "w") as f:
                f.write("maintenance\n")
            mark = home_server.mark()
            assert denied(ssh(home_server, "echo", "in", user=name))
            assert home_server.wait_log(rf"User {name} .* not allowed because /etc/nologin exists",
                                        since=mark)
            root_srv = start_server(["PermitRootLogin=yes"])
            r = ssh(root_srv, "echo", "root-in", user="root")
            root_srv.stop()
        finally:
            os.unlink("/etc/nologin")
        assert r.returncode == 0 and r.stdout == b"root-in\n", r
        r = ssh(home_server, "echo", "in", user=name)
        assert r.returncode == 0, r


# ------------------------------------------------------------------ USER@HOST

@pytest.mark.parametrize("opt,allowed", [
    (f"DenyUsers={USER}@127.0.0.1", False),
    (f"DenyUsers={USER}@*", False),
    (f"DenyUsers={USER}@10.0.0.0/8", True),
    (f"AllowUsers={USER}@127.0.0.0/8", True),
    (f"AllowUsers={USER}@127.0.0.?", True),
    (f"AllowUsers={USER}@10.0.0.0/8", False),
    ("AllowUsers=nobody@127.0.0.1", False),
])
def test_user_at_host(start_server, opt, allowed):
    srv = start_server([opt])
    r = ssh(srv, "echo", "in")
    if allowed:
        assert r.returncode == 0 and r.stdout == b"in\n", (r, srv.log()[-2000:])
    else:
        assert denied(r), r
        assert srv.wait_log(r"not allowed because (listed in DenyUsers|not listed in AllowUsers)")
    srv.stop()


# ----------------------------------------------------- PubkeyAcceptedAlgorithms

def test_pubkey_accepted_algorithms_enforced_through_match(start_server, keys):
    srv = start_server(config=config_with_match("Address 127.0.0.1",
                                                "PubkeyAcceptedAlgorithms rsa-sha2-512"))
    assert denied(ssh(srv, "true", key=keys.user["ed25519"]))
    assert srv.wait_log(r"ssh-ed25519 is not in PubkeyAcceptedAlgorithms")
    r = ssh(srv, "echo", "in", key=keys.user["rsa"])
    assert r.returncode == 0 and r.stdout == b"in\n", r
    srv.stop()


# ------------------------------------------------------- userauth protocol

def raw_transport(server):
    t = paramiko.Transport(("127.0.0.1", server.port))
    t.start_client(timeout=10)
    return t


def userauth_request(user, service="ssh-connection", method="none"):
    m = paramiko.Message()
    m.add_byte(bytes([50]))
    m.add_string(user)
    m.add_string(service)
    m.add_string(method)
    return m


def wait_closed(t, timeout=10):
    deadline = time.monotonic() + timeout
    while t.is_active() and time.monotonic() < deadline:
        time.sleep(0.05)
    return not t.is_active()


def test_userauth_before_service_request_is_a_protocol_error(server):
    mark = server.mark()
    t = raw_transport(server)
    t._send_message(userauth_request(USER))
    assert wait_closed(t)
    assert server.wait_log(r"userauth request before service request", since=mark)
    assert_good_login(server)


@pytest.mark.parametrize("change", ["user", "service"])
def test_change_of_user_or_service_disconnects(server, change):
    mark = server.mark()
    t = raw_transport(server)
    with pytest.raises(paramiko.BadAuthenticationType):
        t.auth_none(USER)           # SERVICE_REQUEST, then "none" as USER
    if change == "user":
        t._send_message(userauth_request("nobody"))
    else:
        t._send_message(userauth_request(USER, service="ssh-userauth"))
    assert wait_closed(t)
    assert server.wait_log(r"(change of user or service during authentication|"
                           r"userauth for unknown service)", since=mark)
    t.close()
    assert_good_login(server)


# ------------------------------------------- unknown users cost the same work

SPY_C = r"""
#define _GNU_SOURCE
#include <crypt.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* Logs one line per crypt_r call to $CRYPT_SPY_LOG, then calls the real one. */
char *crypt_r(const char *phrase, const char *setting, struct crypt_data *data)
{
	static char *(*real)(const char *, const char *, struct crypt_data *);
	if (!real)
		real = (char *(*)(const char *, const char *, struct crypt_data *))
			dlsym(RTLD_NEXT, "crypt_r");
	const char *log = getenv("CRYPT_SPY_LOG");
	if (log) {
		int fd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0600);
		if (fd >= 0) {
			char line[64];
			size_t n = strlen(setting) < 3 ? strlen(setting) : 3;
			memcpy(line, setting, n);
			line[n] = '\n';
			(void)!write(fd, line, n + 1);
			close(fd);
		}
	}
	return real(phrase, setting, data);
}
"""


@needs_root
@pytest.mark.skipif(SANITIZED, reason="the crypt spy is an LD_PRELOAD library, and the "
                    "AddressSanitizer build refuses to start unless its runtime is first "
                    "in the library list; make check runs this test")
def test_unknown_user_password_try_runs_crypt(start_server, tmp_path):
    """A password try for a real user, an unknown one, a refused one and a
    key-only one all run crypt(), with the scheme of the real hashes."""
    if not shutil.which("cc"):
        pytest.skip("no C compiler for the crypt spy")
    src = tmp_path / "spy.c"
    src.write_text(SPY_C)
    lib = tmp_path / "spy.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(src), "-ldl"], check=True)
    spylog = tmp_path / "crypt.log"
    with throwaway_user("wbaccti", "password timing") as name:
        set_password(name)
        scheme = subprocess.run(["getent", "shadow", name], capture_output=True,
                                text=True).stdout.split(":")[1][:3]
        os.environ["LD_PRELOAD"] = str(lib)
        os.environ["CRYPT_SPY_LOG"] = str(spylog)
        try:
            srv = start_server(["DenyUsers=wbaccdenied", "MaxAuthTries=10"])
        finally:
            del os.environ["LD_PRELOAD"]
            del os.environ["CRYPT_SPY_LOG"]
        for user in (name, "wbnosuchuser", "nobody", "wbaccdenied"):
            before = spylog.read_text().count("\n") if spylog.exists() else 0
            assert not password_login(srv, user, "not-the-password")
            calls = spylog.read_text().splitlines()[before:]
            assert len(calls) == 1, f"{user}: crypt_r calls {calls}"
            assert calls[0] == scheme, f"{user}: dummy scheme {calls[0]} != {scheme}"
        srv.stop()


# ------------------------------------------ connections end within a bound

def raw_userauth_transport(server):
    t = raw_transport(server)
    with pytest.raises(paramiko.BadAuthenticationType):
        t.auth_none(USER)
    return t


def test_key_queries_are_limited(start_server, keys):
    """PK_OK answers count against MaxAuthTries."""
    srv = start_server(["MaxAuthTries=3"])
    mark = srv.mark()
    t = raw_userauth_transport(srv)
    # paramiko reads message 60 as keyboard-interactive's INFO_REQUEST;
    # here it is PK_OK: count them instead
    pk_ok = []
    table = dict(t.auth_handler._client_handler_table)
    table[60] = lambda handler, m: pk_ok.append(1)
    t.auth_handler._client_handler_table = table
    key = paramiko.Ed25519Key.from_private_key_file(keys.user["ed25519"])
    for _ in range(6):
        m = userauth_request(USER, method="publickey")
        m.add_boolean(False)
        m.add_string("ssh-ed25519")
        m.add_string(key.asbytes())
        try:
            t._send_message(m)
        except (EOFError, OSError, paramiko.SSHException):
            break
        time.sleep(0.1)
    assert wait_closed(t)
    assert len(pk_ok) == 3
    assert srv.wait_log(r"more than 3 key queries", since=mark)
    assert srv.wait_log(r"Too many authentication failures", since=mark)
    srv.stop()


def test_repeated_none_requests_count_as_failures(start_server):
    srv = start_server(["MaxAuthTries=3"])
    mark = srv.mark()
    t = raw_userauth_transport(srv)
    for _ in range(5):
        try:
            t._send_message(userauth_request(USER))
        except (EOFError, OSError, paramiko.SSHException):
            break
    assert wait_closed(t)
    assert srv.wait_log(r"Too many authentication failures for \S+ \(MaxAuthTries 3\)",
                        since=mark)
    srv.stop()


def plain_packet(payload):
    """An unencrypted binary packet (RFC 4253 s6), as before the first NEWKEYS."""
    pad = 8 - (5 + len(payload)) % 8
    if pad < 4:
        pad += 8
    return (len(payload) + pad + 1).to_bytes(4, "big") + bytes([pad]) + payload + bytes(pad)


def name_list(s):
    return len(s).to_bytes(4, "big") + s.encode()


def plain_kexinit():
    lists = ["curve25519-sha256", "ssh-ed25519", "aes128-ctr", "aes128-ctr",
             "hmac-sha2-256", "hmac-sha2-256", "none", "none", "", ""]
    return plain_packet(bytes([20]) + os.urandom(16) + b"".join(map(name_list, lists))
                        + b"\x00" + b"\x00\x00\x00\x00")


def stalled_client(server):
    """A client in the middle of the key exchange that reads nothing: its
    receive buffer is tiny and never emptied."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    sock.sendall(b"SSH-2.0-never-reads\r\n" + plain_kexinit())
    return sock


# Message 10 is unassigned: each one is answered with SSH_MSG_UNIMPLEMENTED.
UNASSIGNED = plain_packet(bytes([10]))


def test_client_that_never_reads_is_cut(start_server):
    """A client floods messages that each get an answer and never reads:
    its unread output is bounded before authentication and it is cut."""
    srv = start_server()
    mark = srv.mark()
    sock = stalled_client(srv)
    burst = UNASSIGNED * 4096
    sock.settimeout(1)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            sock.sendall(burst)
    except OSError:
        pass                        # cut: reset, or blocked once the server stops reading
    ended = srv.wait_log(r"Connection from 127\.0\.0\.1 port \d+ ended: client does not read",
                         since=mark, timeout=20)
    sock.close()
    assert ended, srv.log(mark)[-2000:]
    assert_good_login(srv)
    srv.stop()


def server_send_queue(port, client_port):
    """Bytes in the kernel's send queue of wombatd's side of the connection."""
    out = subprocess.run(["ss", "-tnH", "state", "established",
                          f"( sport = :{port} and dport = :{client_port} )"],
                         capture_output=True, text=True).stdout.split()
    return int(out[1]) if len(out) > 1 else 0


def fill_kernel_buffers(sock, port):
    """Send answered messages until the server's socket buffer stops
    growing: from then on answers queue inside wombatd."""
    client_port = sock.getsockname()[1]
    last, steady = -1, 0
    for _ in range(200):
        sock.sendall(UNASSIGNED * 2000)
        time.sleep(0.1)
        now = server_send_queue(port, client_port)
        steady = steady + 1 if now == last else 0
        if steady >= 2:
            return
        last = now
    raise AssertionError("the server's send queue never stopped growing")


def test_disconnect_ends_process_even_if_client_never_reads(start_server):
    """After the server decides to disconnect, a client that never reads
    keeps the process at most a few seconds."""
    srv = start_server()
    mark = srv.mark()
    sock = stalled_client(srv)
    fill_kernel_buffers(sock, srv.port)
    sock.sendall(UNASSIGNED * 8000)      # ~128 KiB of answers wait in wombatd (less than the cut)
    time.sleep(0.5)
    sock.sendall(plain_packet(bytes([21])))   # NEWKEYS before the exchange: protocol error
    m = srv.wait_log(r"Connection from 127\.0\.0\.1 port \d+ ended: .*bytes left unsent",
                     since=mark, timeout=15)
    sock.close()
    assert m, srv.log(mark)[-2000:]


# ------------------------------------------------------------------ Banner

def test_large_banner_arrives_whole(start_server, tmp_path):
    banner = tmp_path / "banner.txt"
    lines = [f"line {i:05d} of the banner: " + "abcdefghij" * 6 for i in range(1400)]
    text = "\n".join(lines) + "\n"
    assert len(text) > 100_000
    banner.write_text(text)
    srv = start_server([f"Banner={banner}"])
    r = ssh(srv, "true", verbose=True, text=True)    # ssh shows banners from LogLevel INFO
    assert r.returncode == 0, r
    got = [l for l in r.stderr.splitlines() if l.startswith("line ")]
    assert got == lines
    srv.stop()
