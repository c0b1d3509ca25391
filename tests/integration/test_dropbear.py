"""wombatd as a drop-in for dropbear: started through a symlink named
`dropbear`, with the command line OpenWrt's /etc/init.d/dropbear builds
(dropbear -F -P /var/run/dropbear.1.pid -p 22 -K 300 -T 3 [-s] [-g] [-j] [-k]
[-a] [-b banner] [-r key]... [-W window]) and host keys made by Debian's
dropbearkey.
An OpenSSH client logs in and sees the host key `dropbearkey -y` prints.
"""
import os
import re
import subprocess
import time

import pytest

from conftest import (IS_ROOT, SERVER_KIND, SERVER_WRAPPER, SSH, WOMBATD, Server,
                      free_port, ssh_argv, throwaway_user)

pytestmark = pytest.mark.skipif(SERVER_KIND != "wombatd",
                                reason="dropbear's command line is wombatd's")

USER_NAME = "wdbuser"
KEY_ALGS = {"ed25519": "ssh-ed25519", "rsa": "rsa-sha2-256", "ecdsa": "ecdsa-sha2-nistp256"}


def dropbearkey(path, ktype):
    subprocess.run(["dropbearkey", "-t", ktype, "-f", str(path)], check=True,
                   capture_output=True)
    return str(path)


def dropbear_public(path):
    """(public key line, SHA256 fingerprint) as `dropbearkey -y` prints them."""
    out = subprocess.run(["dropbearkey", "-y", "-f", path], check=True,
                         capture_output=True, text=True).stdout
    line = next(l for l in out.splitlines() if re.match(r"(ssh|ecdsa)-", l))
    fp = re.search(r"Fingerprint: (SHA256:\S+)", out).group(1)
    return line, fp


@pytest.fixture(scope="module")
def dropbear_link(tmp_path_factory):
    d = tmp_path_factory.mktemp("dropbear-bin")
    link = d / "dropbear"
    os.symlink(os.path.abspath(WOMBATD), link)
    return str(link)


@pytest.fixture(scope="module")
def db_keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("etc-dropbear")
    return {t: dropbearkey(d / f"dropbear_{t}_host_key", t) for t in KEY_ALGS}


@pytest.fixture(scope="module")
def user(keys):
    with throwaway_user(USER_NAME, "logging in to the dropbear-named server") as name:
        home = os.path.expanduser(f"~{name}")
        os.makedirs(f"{home}/.ssh", mode=0o700)
        with open(keys.user["ed25519"] + ".pub") as pub, \
                open(f"{home}/.ssh/authorized_keys", "w") as out:
            out.write(pub.read())
        subprocess.run(["chown", "-R", f"{name}:", f"{home}/.ssh"], check=True)
        yield name


def start_dropbear(link, args, tmp_path):
    port = free_port()
    argv = SERVER_WRAPPER + [link] + [a.replace("PORT", str(port)) for a in args]
    server = Server("wombatd", port, str(tmp_path / f"dropbear-{port}.log"), argv)
    return server.start()


def openwrt_args(pid_file, db_keys, *optional, window=None):
    """The init script's order: -F -P pid, the optional flags, -r keys,
    -p port, -K 300 (SSHKeepAlive), -T 3 (MaxAuthTries) and, when its
    RecvWindowSize is set, -W bytes (it lowers a value above 10 MiB first)."""
    args = ["-F", "-P", str(pid_file), *optional]
    for path in db_keys.values():
        args += ["-r", path]
    return args + ["-p", "PORT", "-K", "300", "-T", "3"] + (["-W", str(window)] if window else [])


def seen_host_key(server, user, known_hosts, alg, *cmd, opts=()):
    """Log in checking the host key against known_hosts; returns the run and
    the fingerprint the client was shown."""
    argv = ssh_argv(server, *cmd, user=user, verbose=True,
                    opts=["StrictHostKeyChecking=yes", f"UserKnownHostsFile={known_hosts}",
                          f"HostKeyAlgorithms={alg}", *opts])
    # ssh_argv turns host key checking off first; the first value wins in ssh
    for off in ("StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null"):
        i = argv.index(off)
        del argv[i - 1:i + 1]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    m = re.search(r"Server host key: \S+ (SHA256:\S+)", r.stderr)
    return r, m.group(1) if m else None


@pytest.mark.skipif(not IS_ROOT, reason="the pid file and the login need root")
def test_openwrt_command_line_serves_dropbear_keys(dropbear_link, db_keys, user, tmp_path):
    pid_file = tmp_path / "dropbear.1.pid"
    server = start_dropbear(dropbear_link, openwrt_args(pid_file, db_keys), tmp_path)
    try:
        # dropbear writes its pid file in the foreground too
        assert pid_file.read_text() == f"{server.pid}\n"
        for ktype, alg in KEY_ALGS.items():
            line, fp = dropbear_public(db_keys[ktype])
            known = tmp_path / f"known_{ktype}"
            known.write_text(f"[127.0.0.1]:{server.port} {line}\n")
            r, seen = seen_host_key(server, user, known, alg, "echo", "hi")
            assert r.returncode == 0 and r.stdout == "hi\n", r.stderr[-3000:]
            assert seen == fp, f"{ktype}: client saw {seen}, dropbearkey -y says {fp}"
    finally:
        server.stop()
    assert server.proc.returncode is not None


def dump(dropbear_link, args):
    r = subprocess.run([dropbear_link, *args, "--wombat", "-T"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


def values(text, key):
    return [l.split(" ", 1)[1] for l in text.splitlines() if l.split(" ", 1)[0] == key]


def test_dump_shows_the_effective_values(dropbear_link, db_keys, tmp_path):
    pid = str(tmp_path / "p.pid")
    plain = dump(dropbear_link, [a.replace("PORT", "2222") for a in
                                 openwrt_args(pid, db_keys)])
    assert values(plain, "port") == ["2222"]
    assert values(plain, "pidfile") == [pid]
    assert values(plain, "hostkey") == list(db_keys.values())
    assert values(plain, "clientaliveinterval") == ["300"]
    assert values(plain, "clientalivecountmax") == ["3"]
    assert values(plain, "maxauthtries") == ["3"]
    # dropbear's defaults: root and passwords welcome, forwarding allowed
    assert values(plain, "permitrootlogin") == ["yes"]
    assert values(plain, "passwordauthentication") == ["yes"]
    assert values(plain, "allowtcpforwarding") == ["yes"]
    assert values(plain, "gatewayports") == ["no"]
    assert values(plain, "channelwindowsize") == ["2097152"]      # wombat's default

    every = dump(dropbear_link, [a.replace("PORT", "192.168.1.1:22") for a in openwrt_args(
        pid, db_keys, "-s", "-g", "-j", "-k", "-a", "-b", "/etc/banner", "-I", "600",
        "-c", "uptime -p", "-m", window=262144)])
    assert values(every, "passwordauthentication") == ["no"]
    assert values(every, "kbdinteractiveauthentication") == ["no"]
    assert values(every, "permitrootlogin") == ["prohibit-password"]
    assert values(every, "allowtcpforwarding") == ["no"]
    assert values(every, "allowstreamlocalforwarding") == ["no"]
    assert values(every, "gatewayports") == ["yes"]
    assert values(every, "banner") == ["/etc/banner"]
    assert values(every, "channeltimeout") == ["global=600"]
    assert values(every, "unusedconnectiontimeout") == ["600"]
    assert values(every, "forcecommand") == ["uptime -p"]
    assert values(every, "printmotd") == ["no"]
    assert values(every, "listenaddress") == ["192.168.1.1:22"]
    assert values(every, "channelwindowsize") == ["262144"]
    # -W beyond the bounds: dropbear's 10 MiB at most, wombat's 4 KiB at least
    assert values(dump(dropbear_link, ["-W", "20000000"]), "channelwindowsize") == ["10485760"]
    assert values(dump(dropbear_link, ["-W1000"]), "channelwindowsize") == ["4096"]
    # -w is stronger than -g, whatever the order
    assert values(dump(dropbear_link, ["-w", "-g"]), "permitrootlogin") == ["no"]
    assert values(dump(dropbear_link, ["-j"]), "allowtcpforwarding") == ["remote"]
    assert values(dump(dropbear_link, ["-k"]), "allowtcpforwarding") == ["local"]


@pytest.mark.parametrize("args,named", [
    (["-e"], "-e"), (["-t"], "-t"), (["-W", "64K"], "-W 64K"), (["-W", "0"], "-W 0"),
    (["-Z"], "-Z"),
    (["-p", "70000"], "-p 70000"), (["-K", "5m"], "-K 5m"), (["stray"], "stray"),
])
def test_flags_without_a_wombat_meaning_are_refused(dropbear_link, args, named):
    r = subprocess.run([dropbear_link, "-F", "-E", *args], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode != 0
    assert named in r.stderr, r.stderr


@pytest.mark.skipif(not IS_ROOT, reason="the login needs root")
def test_flags_reach_the_client(dropbear_link, db_keys, user, keys, tmp_path):
    """-s: no password method offered; -b: the banner shown before login;
    -c: the forced command runs instead of the client's."""
    banner = tmp_path / "banner"
    banner.write_text("wombat pretending to be dropbear\n")
    os.chmod(tmp_path, 0o755)
    args = openwrt_args(tmp_path / "p.pid", db_keys, "-s", "-b", str(banner),
                        "-c", "echo forced")
    server = start_dropbear(dropbear_link, args, tmp_path)
    try:
        r = subprocess.run(ssh_argv(server, "echo", "mine", user=user, verbose=True),
                           capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        assert r.returncode == 0 and r.stdout == "forced\n", r.stderr[-3000:]
        assert "wombat pretending to be dropbear" in r.stderr
        r = subprocess.run(ssh_argv(server, "true", user=user, key="",
                                    opts=["PreferredAuthentications=password",
                                          "NumberOfPasswordPrompts=0"]),
                           capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        assert r.returncode == 255
        assert "Permission denied (publickey)" in r.stderr, r.stderr
    finally:
        server.stop()


@pytest.mark.skipif(not IS_ROOT, reason="the login needs root")
def test_R_creates_missing_keys_in_dropbear_format(dropbear_link, user, tmp_path):
    keydir = tmp_path / "etc-dropbear"
    ed = str(keydir / "dropbear_ed25519_host_key")
    ec = str(keydir / "dropbear_ecdsa_host_key")
    server = start_dropbear(dropbear_link, ["-F", "-E", "-R", "-P", str(tmp_path / "p.pid"),
                                            "-r", ed, "-r", ec, "-p", "PORT"], tmp_path)
    try:
        assert server.wait_log(r"Generated new host key .*dropbear_ed25519_host_key")
        for path, alg in ((ed, "ssh-ed25519"), (ec, "ecdsa-sha2-nistp256")):
            assert os.stat(path).st_mode & 0o777 == 0o600
            line, fp = dropbear_public(path)     # dropbearkey reads what we wrote
            assert line.startswith(alg + " ")
            known = tmp_path / f"known_{alg}"
            known.write_text(f"[127.0.0.1]:{server.port} {line}\n")
            r, seen = seen_host_key(server, user, known, alg, "true")
            assert r.returncode == 0, r.stderr[-3000:]
            assert seen == fp
    finally:
        server.stop()


@pytest.mark.skipif(not IS_ROOT, reason="the login needs root")
def test_no_local_forwarding_and_idle_timeout(dropbear_link, db_keys, user, tmp_path):
    """-j: a direct-tcpip open (ssh -W) is refused; -I 2: a session with no
    traffic is ended by the server (bound: well before the command's 60 s)."""
    args = openwrt_args(tmp_path / "p.pid", db_keys, "-E", "-j", "-I", "2")
    server = start_dropbear(dropbear_link, args, tmp_path)
    try:
        argv = ssh_argv(server, user=user, opts=["LogLevel=INFO"])
        argv[-1:-1] = ["-W", f"127.0.0.1:{server.port}"]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        assert r.returncode != 0 and "stdio forwarding failed" in r.stderr, r.stderr
        assert server.wait_log(r"AllowTcpForwarding"), server.log()[-3000:]
        start = time.monotonic()
        r = subprocess.run(ssh_argv(server, "sleep", "60", user=user), capture_output=True,
                           text=True, timeout=50, stdin=subprocess.DEVNULL)
        assert time.monotonic() - start < 40, "the idle session was not ended"
        assert server.wait_log(r"no traffic for 2 s \(ChannelTimeout global=2\)")
    finally:
        server.stop()


@pytest.mark.skipif(not IS_ROOT, reason="the login needs root")
def test_inetd_mode(dropbear_link, db_keys, user, keys, tmp_path):
    """-i: one connection on stdin/stdout (here ssh's ProxyCommand), -p ignored."""
    line, fp = dropbear_public(db_keys["ed25519"])
    known = tmp_path / "known"
    known.write_text(f"dropbear-inetd {line}\n")
    proxy = f"{dropbear_link} -i -p 1 -r {db_keys['ed25519']} -P {tmp_path / 'unused.pid'}"
    argv = [SSH, "-v", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
            "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known}",
            "-o", f"ProxyCommand={proxy}", "-i", keys.user["ed25519"], "-l", user,
            "dropbear-inetd", "echo", "via inetd"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and r.stdout == "via inetd\n", r.stderr[-3000:]
    assert f"Server host key: ssh-ed25519 {fp}" in r.stderr


@pytest.mark.skipif(not IS_ROOT, reason="the login needs root")
def test_W_is_the_channel_window(dropbear_link, db_keys, user, keys, tmp_path):
    """-W as OpenWrt passes it: the window the server announces for a
    session (seen by paramiko), and a transfer of several windows through
    cat, both ways. A -W above dropbear's 10 MiB is lowered to it, with a
    line in the log saying so."""
    import paramiko
    key = paramiko.Ed25519Key.from_private_key_file(keys.user["ed25519"])
    for asked, want in ((65536, 65536), (20000000, 10485760)):
        args = openwrt_args(tmp_path / "p.pid", db_keys, "-E", window=asked)
        server = start_dropbear(dropbear_link, args, tmp_path)
        t = paramiko.Transport(("127.0.0.1", server.port))
        try:
            t.start_client(timeout=30)
            t.auth_publickey(user, key)
            chan = t.open_session()
            assert chan.out_window_size == want
            if asked != want:
                assert server.wait_log(rf"dropbear -W {asked}: using a window of {want} bytes")
                continue
            data = os.urandom(5 * asked + 1234)
            chan.settimeout(60)
            chan.exec_command("cat")
            back = bytearray()
            # small enough for the pipes and paramiko's buffers: send, then read
            chan.sendall(data)
            chan.shutdown_write()
            while piece := chan.recv(1 << 16):
                back += piece
            assert bytes(back) == data
            assert chan.recv_exit_status() == 0
        finally:
            t.close()
            server.stop()
