"""The static build (./configure --enable-static) on a system with no shared
libraries at all: `make check-static` builds it into build-static/ and runs
this file with WOMBAT_STATIC_DIR pointing there.

The name does not start with test_, so `make integration` (pytest
tests/integration) does not collect it: pytest runs a file named on its
command line whatever its name, which is what make check-static does.

The static wombatd and wombat-keygen are copied into an otherwise empty root
directory: a passwd/group/shadow of its own, Debian's nsswitch.conf, a static
busybox as /bin/sh, /proc and /dev mounted, and nothing else — no ld.so, no
libc.so, no libtomcrypt. wombatd runs chrooted there, in a mount namespace of
its own (unshare -m), listening on 127.0.0.1, and the host's OpenSSH client
logs in to an account that exists only in that root's /etc/passwd.
"""
import hashlib
import os
import shutil
import subprocess

import pytest

from conftest import (SSH, IS_ROOT, REPO, Server, free_port, fingerprint, keygen)

STATIC_DIR = os.environ.get("WOMBAT_STATIC_DIR")
if not STATIC_DIR:
    pytest.fail("check_static.py tests the --enable-static build: run it with "
                "`make check-static` (which sets WOMBAT_STATIC_DIR)", pytrace=False)
if not IS_ROOT:
    pytest.fail("check_static.py needs root (chroot, mount namespace)", pytrace=False)

BUSYBOX = "/bin/busybox"
USER, UID, GID = "wbstatic", 4242, 4242
# the pre-auth child's user (privilege separation)
PRIVSEP_UID = 4243
APPLETS = ["sh", "cat", "id", "sha256sum", "echo", "true"]


def readelf(*args):
    return subprocess.run(["readelf", *args], check=True, capture_output=True,
                          text=True).stdout


@pytest.mark.parametrize("prog", ["wombatd", "wombat-keygen"])
def test_no_interpreter_no_shared_libraries(prog):
    path = os.path.join(STATIC_DIR, prog)
    headers = readelf("-lW", path)
    assert "INTERP" not in headers, f"{prog} asks for a dynamic loader:\n{headers}"
    dynamic = readelf("-dW", path)
    assert "(NEEDED)" not in dynamic, f"{prog} needs shared libraries:\n{dynamic}"


def write(path, text, mode=0o644, owner=None):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    if owner:
        os.chown(path, *owner)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """The empty root directory (see the module's docstring)."""
    r = tmp_path_factory.mktemp("static-root")
    os.chmod(r, 0o755)
    for d in ("bin", "usr/sbin", "etc/wombat", "proc", "dev", "tmp",
              "var/lib/wombat/empty", f"home/{USER}/.ssh"):
        os.makedirs(r / d, exist_ok=True)
    os.chmod(r / "tmp", 0o1777)
    shutil.copy(os.path.join(STATIC_DIR, "wombatd"), r / "usr/sbin/wombatd")
    shutil.copy(os.path.join(STATIC_DIR, "wombat-keygen"), r / "usr/sbin/wombat-keygen")
    shutil.copy(BUSYBOX, r / "bin/busybox")
    for applet in APPLETS:
        os.symlink("busybox", r / "bin" / applet)
    write(r / "etc/passwd",
          "root:x:0:0:root:/:/bin/sh\n"
          f"wombat:x:{PRIVSEP_UID}:{PRIVSEP_UID}::/nonexistent:/bin/false\n"
          f"{USER}:x:{UID}:{GID}::/home/{USER}:/bin/sh\n")
    write(r / "etc/group", f"root:x:0:\nwombat:x:{PRIVSEP_UID}:\n{USER}:x:{GID}:\n")
    # "*": no password, keys welcome
    write(r / "etc/shadow", f"root:*:19000::::::\nwombat:*:19000::::::\n{USER}:*:19000::::::\n",
          mode=0o600)
    # Debian's: the systemd module cannot be loaded here (no libnss_systemd,
    # no libc.so); glibc passes over it
    write(r / "etc/nsswitch.conf",
          "passwd: files systemd\ngroup: files systemd\nshadow: files systemd\n"
          "hosts: files dns\n")
    write(r / "etc/hosts", "127.0.0.1 localhost\n")
    os.chown(r / f"home/{USER}", UID, GID)
    os.chown(r / f"home/{USER}/.ssh", UID, GID)
    os.chmod(r / f"home/{USER}/.ssh", 0o700)
    return r


def in_root(root, *argv, **kw):
    """argv run chrooted in root, in a mount namespace with /proc and /dev."""
    script = ('mount -t proc proc "$1/proc" && mount --rbind /dev "$1/dev" && '
              'r=$1 && shift && exec chroot "$r" "$@"')
    return ["unshare", "-m", "--propagation", "private", "--", "/bin/sh", "-c", script,
            "sh", str(root), *argv]


def test_dynamic_build_cannot_run_there(root):
    """The control: the root really has no shared libraries (the dynamic
    wombat-keygen of the normal build cannot even start in it)."""
    dynamic = os.path.join(REPO, "wombat-keygen")
    assert "(NEEDED)" in readelf("-dW", dynamic), "the top-level build is not dynamic"
    shutil.copy(dynamic, root / "tmp/dynamic-keygen")
    r = subprocess.run(in_root(root, "/tmp/dynamic-keygen", "-t", "ed25519", "-f",
                               "/tmp/k"), capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert not os.path.exists(root / "tmp/k")


@pytest.fixture(scope="module")
def static_server(root, tmp_path_factory):
    keydir = tmp_path_factory.mktemp("static-keys")
    userkey = keygen(keydir / "id_ed25519", "ed25519")
    ak = root / f"home/{USER}/.ssh/authorized_keys"
    shutil.copy(userkey + ".pub", ak)
    os.chown(ak, UID, GID)
    os.chmod(ak, 0o600)
    # the host key, made by the static wombat-keygen inside the root
    r = subprocess.run(in_root(root, "/usr/sbin/wombat-keygen", "-t", "ed25519", "-f",
                               "/etc/wombat/ssh_host_ed25519_key"),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"static wombat-keygen failed in the root: {r.stderr}"
    port = free_port()
    argv = in_root(root, "/usr/sbin/wombatd", "-D", "-e", "-p", str(port),
                   "-h", "/etc/wombat/ssh_host_ed25519_key",
                   "-o", "ListenAddress=127.0.0.1", "-o", "PidFile=none",
                   "-o", "LogLevel=DEBUG1", "-o", "PerSourcePenaltyExemptList=127.0.0.1")
    log = str(tmp_path_factory.mktemp("static-log") / "wombatd.log")
    srv = Server("wombatd", port, log, argv).start()
    srv.userkey = userkey
    srv.known_hosts = str(keydir / "known_hosts")
    with open(root / "etc/wombat/ssh_host_ed25519_key.pub") as f:
        write(srv.known_hosts, f"[127.0.0.1]:{port} {f.read()}")
    srv.host_pub = str(root / "etc/wombat/ssh_host_ed25519_key.pub")
    yield srv
    srv.stop()


def static_ssh(srv, *cmd, input=None, opts=()):
    argv = [SSH, "-p", str(srv.port), "-F", "/dev/null", "-i", srv.userkey,
            "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={srv.known_hosts}",
            "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", *opts,
            "-l", USER, "127.0.0.1", *cmd]
    return subprocess.run(argv, input=input, capture_output=True, timeout=60,
                          stdin=None if input is not None else subprocess.DEVNULL)


def test_login_runs_a_command_as_the_user(static_server):
    r = static_ssh(static_server, "echo static-ok; id -u; id -g")
    assert r.returncode == 0, f"{r.stderr!r}\n{static_server.log()[-3000:]}"
    assert r.stdout == f"static-ok\n{UID}\n{GID}\n".encode()
    # the pre-auth child was sandboxed as usual (privsep, seccomp)
    log = static_server.log()
    assert f"pre-auth child as uid {PRIVSEP_UID}" in log and "seccomp yes" in log, log[-3000:]


def test_host_key_is_the_one_made_in_the_root(static_server):
    """StrictHostKeyChecking=yes with only that key known: the login above
    already proves it; here the fingerprint the client saw is compared too."""
    r = static_ssh(static_server, "true", opts=("-v",))
    assert r.returncode == 0
    assert f"Server host key: ssh-ed25519 {fingerprint(static_server.host_pub)}" in \
        r.stderr.decode()


def test_upload_download_checksum(static_server):
    data = os.urandom(1 << 20)
    want = hashlib.sha256(data).hexdigest()
    r = static_ssh(static_server, "cat > /tmp/up.bin && sha256sum /tmp/up.bin", input=data)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().split()[0] == want
    r = static_ssh(static_server, "cat /tmp/up.bin")
    assert r.returncode == 0 and hashlib.sha256(r.stdout).hexdigest() == want


def test_forwarding_resolves_a_name_from_etc_hosts(static_server):
    """getaddrinfo in the static binary (nss files, built in): a login whose
    transport goes through a -W forward to localhost, resolved by the
    static wombatd in the root."""
    hop = " ".join([SSH, "-p", str(static_server.port), "-F", "/dev/null",
                    "-i", static_server.userkey, "-o", "IdentitiesOnly=yes",
                    "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                    "-o", f"UserKnownHostsFile={static_server.known_hosts}",
                    "-o", "LogLevel=ERROR", "-W", "localhost:%p", "-l", USER, "127.0.0.1"])
    r = static_ssh(static_server, "echo through-localhost",
                   opts=("-o", f"ProxyCommand={hop}",
                         "-o", f"HostKeyAlias=[127.0.0.1]:{static_server.port}"))
    assert r.returncode == 0, f"{r.stderr!r}\n{static_server.log()[-3000:]}"
    assert r.stdout == b"through-localhost\n"
