"""Configuration from the command line: `wombatd -t` (test), `-T` (dump the
effective config, with `-C` for Match), `-o` overrides, and error messages
"FILE:LINE: Option: reason" for bad files."""
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import WOMBATD, Server, free_port, server_argv, ssh

pytestmark = [
    pytest.mark.skipif(os.environ.get("WOMBAT_TEST_SERVER", "wombatd") != "wombatd",
                       reason="wombatd's own -t/-T conventions"),
    pytest.mark.skipif(not os.access(WOMBATD, os.X_OK), reason="wombatd is not built"),
]


def run(*args, timeout=20):
    return subprocess.run([str(WOMBATD), *map(str, args)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout)


@pytest.fixture(scope="module")
def hostkey(tmp_path_factory):
    path = tmp_path_factory.mktemp("cfgkey") / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
                   check=True, stdin=subprocess.DEVNULL)
    return path


def write(path, text):
    path.write_text(text)
    return path


def dump(*args):
    r = run("-T", *args)
    assert r.returncode == 0, r.stderr
    return r.stdout


def dump_dict(text):
    """keyword -> list of values, in order."""
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        out.setdefault(key, []).append(value)
    return out


GOOD = """\
# a comment
Port 2222
ListenAddress 127.0.0.1
PermitRootLogin no
PasswordAuthentication=no
MaxAuthTries 3
LoginGraceTime 1m30s
AuthorizedKeysFile .ssh/authorized_keys %h/.ssh/extra_%u
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
Ciphers -chacha20-poly1305@openssh.com
RekeyLimit 1G 1h
ClientAliveInterval 15
CloseOnChildExit yes
SessionKillMode control-group
SessionKillSignal SIGHUP
SessionKillTimeout 10
SessionKillFallback process-group
Match User bob Address 10.0.0.0/8
    PasswordAuthentication yes
    SessionKillMode none
    ForceCommand /bin/date
"""


def test_good_config_passes_t(tmp_path, hostkey):
    conf = write(tmp_path / "good.conf", GOOD)
    r = run("-t", "-f", conf, "-h", hostkey)
    assert r.returncode == 0, r.stderr
    assert not re.search(r"\.conf:\d+:", r.stderr)


@pytest.mark.parametrize("text,line,message", [
    ("Port 22\nNoSuchOption yes\n", 2, "NoSuchOption: unknown option"),
    ("PermitRootLogin perhaps\n", 1, "PermitRootLogin: bad value 'perhaps'"),
    ("\nMaxAuthTries\n", 2, "MaxAuthTries: missing value"),
    ("MaxSessions 1 2\n", 1, "MaxSessions: too many arguments"),
    ("LoginGraceTime 2x\n", 1, "LoginGraceTime: bad time value '2x'"),
    ("Ciphers aes128-ctr,3des-cbcc\n", 1, "Ciphers: unsupported algorithm '3des-cbcc'"),
    ("Port 22\nHostKeyAlgorithms ssh-rsa,ssh-dss\n", 2,
     "HostKeyAlgorithms: no algorithm wombat implements in 'ssh-rsa,ssh-dss'"),
    ("Match User bob\n  Port 2200\n", 2, "Port: not allowed in a Match block"),
    ("Match User bob\n  MaxSessions lots\n", 2, "MaxSessions: bad number 'lots'"),
    ("Match Address 10.0.0.0/40\n", 1, "Match: bad address pattern '10.0.0.0/40'"),
    ("Match LocalAddress 127.0.0.1,::1/200\n", 1,
     "Match: bad LocalAddress pattern '::1/200'"),
    ("Match LocalPort 22,ssh\n", 1, "Match: bad LocalPort pattern 'ssh'"),
    ("Match RDomain x\n", 1, "Match: unsupported criterion 'RDomain'"),
    ("SessionKillMode sometimes\n", 1, "SessionKillMode: bad value 'sometimes'"),
    ("Port 22\nChannelWindowSize 2K\n", 2, "ChannelWindowSize: size '2K' out of range (4K to 16M)"),
    ("Match User bob\n  ChannelWindowSize 64 K\n", 2, "ChannelWindowSize: too many arguments"),
    ("Include does-not-exist.conf\n", 1, "Include: cannot open"),
])
def test_bad_config_fails_t(tmp_path, hostkey, text, line, message):
    conf = write(tmp_path / "bad.conf", text)
    r = run("-t", "-f", conf, "-h", hostkey)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert f"{conf}:{line}: {message}" in r.stderr


def test_error_in_included_file_names_that_file(tmp_path, hostkey):
    inc = write(tmp_path / "inc.conf", "# included\n\nMaxStartups many\n")
    conf = write(tmp_path / "main.conf", "Port 22\nInclude inc.conf\n")
    r = run("-t", "-f", conf, "-h", hostkey)
    assert r.returncode == 1
    assert f"{inc}:3: MaxStartups: bad value 'many'" in r.stderr


def test_bad_command_line_option(tmp_path, hostkey):
    conf = write(tmp_path / "good.conf", GOOD)
    r = run("-t", "-f", conf, "-h", hostkey, "-o", "Port=0")
    assert r.returncode == 1
    assert "command line: Port: bad port number '0'" in r.stderr
    r = run("-t", "-f", conf, "-h", hostkey, "-o", "Bogus=1")
    assert r.returncode == 1
    assert "command line: Bogus: unknown option" in r.stderr


def test_dump_shows_effective_values(tmp_path):
    conf = write(tmp_path / "good.conf", GOOD)
    d = dump_dict(dump("-f", conf))
    assert d["port"] == ["2222"]
    assert d["listenaddress"] == ["127.0.0.1"]
    assert d["permitrootlogin"] == ["no"]
    assert d["passwordauthentication"] == ["no"]
    assert d["maxauthtries"] == ["3"]
    assert d["logingracetime"] == ["90"]
    assert d["authorizedkeysfile"] == [".ssh/authorized_keys %h/.ssh/extra_%u"]
    assert d["acceptenv"] == ["LANG", "LC_*"]
    assert d["subsystem"] == ["sftp internal-sftp"]
    assert "chacha20" not in d["ciphers"][0] and "aes128-ctr" in d["ciphers"][0]
    assert d["rekeylimit"] == [f"{1 << 30} 3600"]
    assert d["clientaliveinterval"] == ["15"]
    assert d["closeonchildexit"] == ["yes"]
    assert d["sessionkillmode"] == ["control-group"]
    assert d["sessionkillsignal"] == ["HUP"]
    assert d["sessionkilltimeout"] == ["10"]
    assert d["forcecommand"] == ["none"]
    # every keyword is lowercase
    assert all(k == k.lower() for k in d)


def test_dump_defaults_without_a_file(tmp_path):
    empty = write(tmp_path / "empty.conf", "")
    d = dump_dict(dump("-f", empty))
    assert d["port"] == ["22"]
    assert d["maxauthtries"] == ["6"]
    assert d["logingracetime"] == ["120"]
    assert d["permitrootlogin"] == ["prohibit-password"]
    assert d["authorizedkeysfile"] == [".ssh/authorized_keys .ssh/authorized_keys2"]
    assert d["maxsessions"] == ["10"]
    assert d["closeonchildexit"] == ["no"]
    assert d["sessionkillmode"] == ["process"]
    assert d["sessionkillsignal"] == ["TERM"]
    assert d["sessionkilltimeout"] == ["5"]


def test_dump_with_match_spec(tmp_path):
    conf = write(tmp_path / "good.conf", GOOD)
    d = dump_dict(dump("-f", conf, "-C", "user=bob,addr=10.1.2.3,host=h.example"))
    assert d["passwordauthentication"] == ["yes"]
    assert d["sessionkillmode"] == ["none"]
    assert d["forcecommand"] == ["/bin/date"]
    # criteria not all met: the global values stand
    d = dump_dict(dump("-f", conf, "-C", "user=bob,addr=192.0.2.1,host=h"))
    assert d["passwordauthentication"] == ["no"]
    assert d["sessionkillmode"] == ["control-group"]
    d = dump_dict(dump("-f", conf, "-C", "user=alice,addr=10.1.2.3,host=h"))
    assert d["passwordauthentication"] == ["no"]


LOCAL = """\
MaxSessions 10
Match LocalAddress 127.0.0.0/8,!127.0.0.2 LocalPort 2222
    MaxSessions 3
Match LocalPort 80??,!8022
    MaxAuthTries 2
"""


@pytest.mark.parametrize("spec,sessions,tries", [
    ("laddr=127.0.0.1,lport=2222", "3", "6"),
    ("laddr=127.9.9.9,lport=2222", "3", "6"),
    ("laddr=127.0.0.2,lport=2222", "10", "6"),     # negated address
    ("laddr=10.0.0.1,lport=2222", "10", "6"),
    ("laddr=127.0.0.1,lport=22", "10", "6"),        # other port
    ("lport=2222", "10", "6"),                      # no local address: no match
    ("laddr=127.0.0.1,lport=8080", "10", "2"),      # port glob
    ("laddr=127.0.0.1,lport=8022", "10", "6"),      # negated port
    ("laddr=::ffff:127.0.0.1,lport=2222", "3", "6"),
])
def test_dump_with_local_match_spec(tmp_path, spec, sessions, tries):
    conf = write(tmp_path / "local.conf", LOCAL)
    d = dump_dict(dump("-f", conf, "-C", f"user=bob,addr=192.0.2.1,host=h,{spec}"))
    assert d["maxsessions"] == [sessions]
    assert d["maxauthtries"] == [tries]


@pytest.mark.parametrize("spec,message", [
    ("user=bob,lport=0", "bad lport"),
    ("user=bob,lport=22x", "bad lport"),
    ("user=bob,rdomain=x", "unknown key"),
])
def test_dump_rejects_bad_match_spec(tmp_path, spec, message):
    conf = write(tmp_path / "local.conf", LOCAL)
    r = run("-T", "-f", conf, "-C", spec)
    assert r.returncode == 1
    assert message in r.stderr


def test_login_applies_match_local_port(tmp_path, keys):
    """A real login through the port a Match LocalPort block names gets that
    block's ForceCommand; a block for another port (listed first, so its
    ForceCommand would win) does not apply."""
    port = free_port()
    other = port + 1 if port < 65535 else port - 1
    cfg = write(tmp_path / "wombatd_config",
                f"Match LocalPort {other}\n"
                "    ForceCommand echo wrong-port\n"
                f"Match LocalAddress 127.0.0.1 LocalPort {port}\n"
                "    ForceCommand echo matched-localport\n")
    argv = server_argv("wombatd", port, list(keys.host.values()), keys.authorized_keys, [])
    argv[1:1] = ["-f", str(cfg)]
    srv = Server("wombatd", port, str(tmp_path / "log"), argv).start()
    try:
        r = ssh(srv, "echo own-command", text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert r.stdout == "matched-localport\n"
    finally:
        srv.stop()


def test_login_ignores_match_for_other_local_port(tmp_path, keys):
    """Only a block for another port: the client's own command runs."""
    port = free_port()
    other = port + 1 if port < 65535 else port - 1
    cfg = write(tmp_path / "wombatd_config",
                f"Match LocalPort {other}\n"
                "    ForceCommand echo matched-localport\n")
    argv = server_argv("wombatd", port, list(keys.host.values()), keys.authorized_keys, [])
    argv[1:1] = ["-f", str(cfg)]
    srv = Server("wombatd", port, str(tmp_path / "log"), argv).start()
    try:
        r = ssh(srv, "echo own-command", text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert r.stdout == "own-command\n"
    finally:
        srv.stop()


def test_dump_reads_back_identically(tmp_path):
    conf = write(tmp_path / "good.conf", GOOD + "Match all\n  MaxSessions 1\n")
    first = dump("-f", conf, "-C", "user=bob,addr=10.9.9.9,host=x")
    again = write(tmp_path / "dump.conf", first)
    second = dump("-f", again)
    assert first == second


def test_command_line_overrides_file(tmp_path):
    conf = write(tmp_path / "good.conf", GOOD)
    d = dump_dict(dump("-f", conf, "-o", "MaxAuthTries=2", "-o", "Port 2300",
                       "-o", "AcceptEnv=TZ"))
    assert d["maxauthtries"] == ["2"]
    assert d["port"] == ["2300"]
    assert d["acceptenv"] == ["TZ"]


def test_debian_stock_sshd_config_is_accepted(tmp_path, hostkey):
    """Debian 12's /etc/ssh/sshd_config (its active lines) loads unchanged."""
    confd = tmp_path / "sshd_config.d"
    confd.mkdir()
    write(confd / "local.conf", "PasswordAuthentication no\n")
    conf = write(tmp_path / "sshd_config", f"""\
# This is the sshd server system-wide configuration file.
Include {confd}/*.conf
#Port 22
KbdInteractiveAuthentication no
UsePAM yes
X11Forwarding yes
PrintMotd no
AcceptEnv LANG LC_*
Subsystem\tsftp\t/usr/lib/openssh/sftp-server
#Match User anoncvs
#\tX11Forwarding no
""")
    r = run("-t", "-f", conf, "-h", hostkey)
    assert r.returncode == 0, r.stderr
    d = dump_dict(dump("-f", conf))
    assert d["passwordauthentication"] == ["no"]
    assert d["kbdinteractiveauthentication"] == ["no"]
    assert d["printmotd"] == ["no"]
    assert d["subsystem"] == ["sftp /usr/lib/openssh/sftp-server"]


def test_system_sshd_config_is_accepted(hostkey):
    """This machine's own OpenSSH config, if readable, is accepted by -t
    (unless it uses algorithms or features wombat does not have)."""
    path = Path("/etc/ssh/sshd_config")
    if not os.access(path, os.R_OK):
        pytest.skip("no readable /etc/ssh/sshd_config")
    r = run("-t", "-f", path, "-h", hostkey)
    if r.returncode != 0 and re.search(r"unsupported algorithm|not supported by wombat",
                                       r.stderr):
        pytest.skip(f"uses something wombat lacks: {r.stderr.strip()}")
    assert r.returncode == 0, r.stderr
