"""A build that leaves parts out (./configure --enable-router, or
--disable-rsa/-nist/-dh/-zlib/-aes one by one) still serves a user through real
clients: OpenSSH ssh with an ed25519 key and with a password, scp, sftp.
What it left out (the "# left out of this build:" line of wombatd -T) is
not offered: a HostKey file of a left-out type is skipped with its reason,
a configuration naming a left-out algorithm is warned about, a client
offering only left-out key exchanges or ciphers is refused, Compression yes
offers no compression. Every test also runs against the default build, where it
checks the opposite (the part is there). `make check-router` runs this file
against build-router/ (WOMBAT_BIN_DIR)."""
import hashlib
import os
import re
import subprocess

import pytest

from conftest import (IS_ROOT, WOMBATD, negotiated, ssh, ssh_argv, throwaway_user)

SFTP_SERVER = "/usr/lib/openssh/sftp-server"
PW_USER = "wso-router"
PW_PASS = "router pass 42"


def left_out():
    """The parts this wombatd was configured without, from -T."""
    r = subprocess.run([WOMBATD, "-T", "-f", "/dev/null", "-o", "HostKey=/nonexistent"],
                       capture_output=True, text=True, timeout=30)
    m = re.search(r"^# left out of this build: (.*)$", r.stdout, re.M)
    assert m, f"wombatd -T names no left-out parts:\n{r.stdout[-500:]}\n{r.stderr}"
    return set() if m.group(1) == "nothing" else set(m.group(1).split())


LEFT_OUT = left_out()


def client_opts(server, key):
    return ["-P", str(server.port), "-F", "/dev/null", "-i", key,
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR"]


def test_t_names_what_was_left_out():
    assert LEFT_OUT <= {"rsa", "nist", "dh", "zlib", "pq", "aes", "forwarding"}


def test_forwarding(server):
    """ssh -W to the server's own port: its banner comes back through the
    channel; a build without forwarding refuses the channel."""
    argv = ssh_argv(server, verbose=True)
    argv[argv.index("127.0.0.1"):] = ["-W", f"127.0.0.1:{server.port}", "127.0.0.1"]
    r = subprocess.run(argv, input=b"", capture_output=True, timeout=30)
    if "forwarding" in LEFT_OUT:
        assert not r.stdout.startswith(b"SSH-2.0-"), r.stdout
        assert b"open failed" in r.stderr, r.stderr[-2000:]
    else:
        assert r.stdout.startswith(b"SSH-2.0-"), r.stderr[-2000:]


def test_ed25519_key_login(server):
    r = ssh(server, "echo", "router", verbose=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout == b"router\n"
    alg = negotiated(r.stderr)
    assert alg["hostkey"] == "ssh-ed25519" or "rsa" not in LEFT_OUT


def test_password_login_with_openssh(start_server, tmp_path):
    if not IS_ROOT:
        pytest.skip("the password login needs root to create a throw-away user")
    askpass = tmp_path / "askpass"
    askpass.write_text(f"#!/bin/sh\necho '{PW_PASS}'\n")
    askpass.chmod(0o755)
    with throwaway_user(PW_USER, "the password login"):
        subprocess.run(["chpasswd"], input=f"{PW_USER}:{PW_PASS}\n", text=True, check=True)
        srv = start_server(["PasswordAuthentication=yes", "PubkeyAuthentication=no"])
        argv = ["BatchMode=no" if a == "BatchMode=yes" else a
                for a in ssh_argv(srv, "id", "-un", key="", user=PW_USER)]
        argv[1:1] = ["-o", "PreferredAuthentications=password"]
        env = dict(os.environ, SSH_ASKPASS=str(askpass), SSH_ASKPASS_REQUIRE="force",
                   DISPLAY=":0")
        r = subprocess.run(argv, capture_output=True, env=env, timeout=60,
                           stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr[-2000:] + srv.log()[-3000:].encode()
        assert r.stdout == f"{PW_USER}\n".encode()
        srv.stop()


def test_scp_and_sftp(start_server, keys, tmp_path):
    srv = start_server([f"Subsystem=sftp {SFTP_SERVER}"])
    data = os.urandom(300_000)
    src = tmp_path / "up.bin"
    src.write_bytes(data)
    remote = tmp_path / "remote.bin"
    back = tmp_path / "back.bin"
    key = keys.user["ed25519"]
    r = subprocess.run(["scp"] + client_opts(srv, key) + [str(src), f"127.0.0.1:{remote}"],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert remote.read_bytes() == data
    batch = tmp_path / "batch"
    batch.write_text(f"get {remote} {back}\nput {src} {remote}.2\n")
    r = subprocess.run(["sftp", "-b", str(batch)] + client_opts(srv, key) + ["127.0.0.1"],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert hashlib.sha256(back.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert (tmp_path / "remote.bin.2").read_bytes() == data
    srv.stop()


def test_rsa_host_key(start_server, keys):
    """A left-out key type is skipped with its reason while another loads;
    with RSA built in, the same key is served."""
    srv = start_server(host_keys=[keys.host["rsa"], keys.host["ed25519"]])
    if "rsa" in LEFT_OUT:
        assert srv.wait_log(re.escape(keys.host["rsa"]) + r": RSA keys are left out of "
                            r"this build \(configured with --disable-rsa\)"), srv.log()
        r = ssh(srv, "true", opts=["HostKeyAlgorithms=rsa-sha2-512,rsa-sha2-256"],
                verbose=True)
        assert r.returncode == 255 and b"no matching host key type" in r.stderr, r.stderr
    else:
        r = ssh(srv, "true", opts=["HostKeyAlgorithms=rsa-sha2-512"])
        assert r.returncode == 0, r.stderr
    srv.stop()


def test_only_a_left_out_host_key_does_not_start(keys):
    """Only a key of a left-out type: nothing loads, -t fails naming why."""
    r = subprocess.run([WOMBATD, "-t", "-f", "/dev/null", "-h", keys.host["rsa"]],
                       capture_output=True, text=True, timeout=30)
    if "rsa" in LEFT_OUT:
        assert r.returncode != 0
        assert "left out of this build" in r.stderr and "no host key" in r.stderr, r.stderr
    else:
        assert r.returncode == 0, r.stderr


def test_config_naming_left_out_algorithms(tmp_path, keys):
    conf = tmp_path / "sshd_config"
    conf.write_text("KexAlgorithms curve25519-sha256,ecdh-sha2-nistp256,"
                    "diffie-hellman-group14-sha256\n"
                    "HostKeyAlgorithms ssh-ed25519,rsa-sha2-512\n"
                    "Compression yes\n"
                    "Ciphers aes128-ctr,chacha20-poly1305@openssh.com\n")
    r = subprocess.run([WOMBATD, "-T", "-f", str(conf), "-h", keys.host["ed25519"]],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    dump = dict(line.split(" ", 1) for line in r.stdout.splitlines()
                if " " in line and not line.startswith("#"))
    expect_kex = ["curve25519-sha256"] + \
        ([] if "nist" in LEFT_OUT else ["ecdh-sha2-nistp256"]) + \
        ([] if "dh" in LEFT_OUT else ["diffie-hellman-group14-sha256"])
    assert dump["kexalgorithms"] == ",".join(expect_kex)
    assert dump["ciphers"] == ("" if "aes" in LEFT_OUT else "aes128-ctr,") + \
        "chacha20-poly1305@openssh.com"
    for part, line, names in (("nist", 1, "ecdh-sha2-nistp256"), ("dh", 1, "group14"),
                              ("rsa", 2, "rsa-sha2-512"), ("aes", 4, "aes128-ctr")):
        warned = re.search(rf"{re.escape(str(conf))}:{line}: \w+: '[^']*{names}[^']*' "
                           r"is not supported by wombat, ignored", r.stderr)
        assert bool(warned) == (part in LEFT_OUT), (part, r.stderr)
    zlib_warned = re.search(rf"{re.escape(str(conf))}:3: Compression: 'yes': this wombatd is "
                            r"built with --disable-zlib, taken as 'no'", r.stderr)
    assert bool(zlib_warned) == ("zlib" in LEFT_OUT), r.stderr
    assert dump["compression"] == ("no" if "zlib" in LEFT_OUT else "yes")


def test_client_offering_only_left_out_kex(server):
    offered = []
    if "nist" in LEFT_OUT:
        offered.append("ecdh-sha2-nistp256")
    if "dh" in LEFT_OUT:
        offered += ["diffie-hellman-group14-sha256", "diffie-hellman-group-exchange-sha256"]
    if not offered:
        offered = ["ecdh-sha2-nistp256", "diffie-hellman-group14-sha256"]
        r = ssh(server, "true", opts=[f"KexAlgorithms={','.join(offered)}"])
        assert r.returncode == 0, r.stderr     # built in: served
        return
    mark = server.mark()
    r = ssh(server, "true", opts=[f"KexAlgorithms={','.join(offered)}"], verbose=True)
    assert r.returncode == 255
    assert b"no matching key exchange method found" in r.stderr, r.stderr
    assert server.wait_log(r"no matching key exchange algorithm", since=mark), server.log(mark)


def test_client_offering_only_aes(server):
    """ssh -c with AES ciphers only: served with one of them, or, in a build
    configured with --disable-aes, refused at key exchange with the reason
    logged; chacha20-poly1305 is served either way."""
    aes = "aes128-ctr,aes256-gcm@openssh.com"
    mark = server.mark()
    r = ssh(server, "true", opts=[f"Ciphers={aes}"], verbose=True)
    if "aes" in LEFT_OUT:
        assert r.returncode == 255
        assert b"no matching cipher found" in r.stderr, r.stderr[-2000:]
        assert server.wait_log(r"no matching cipher \(client to server\) algorithm",
                               since=mark), server.log(mark)
    else:
        assert r.returncode == 0, r.stderr[-2000:]
        assert negotiated(r.stderr)["client->server"]["cipher"] in aes.split(",")
    r = ssh(server, "echo", "c", opts=["Ciphers=chacha20-poly1305@openssh.com"], verbose=True)
    assert r.returncode == 0 and r.stdout == b"c\n", r.stderr[-2000:]
    assert negotiated(r.stderr)["server->client"]["cipher"] == "chacha20-poly1305@openssh.com"


def test_compression_requested_by_the_client(server):
    """ssh -C: zlib@openssh.com when built in; otherwise none, and the
    session works all the same."""
    r = ssh(server, "echo", "z", opts=["Compression=yes"], verbose=True)
    assert r.returncode == 0 and r.stdout == b"z\n", r.stderr[-2000:]
    alg = negotiated(r.stderr)
    want = "none" if "zlib" in LEFT_OUT else "zlib@openssh.com"
    assert alg["client->server"]["compression"] == want, r.stderr[-2000:]
    assert alg["server->client"]["compression"] == want, r.stderr[-2000:]
