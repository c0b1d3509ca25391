"""The session environment and who may set what in it (README "Session
environment"), with real OpenSSH ssh sending variables both ways it can:
SendEnv (the variable taken from ssh's own environment) and SetEnv.

Order, later wins: the client's accepted variables; the server's PATH and
TERM (from pty-req); authorized_keys environment= then ~/.ssh/environment
(PermitUserEnvironment); SetEnv; USER, LOGNAME, HOME, SHELL, MAIL and the
SSH_* variables."""
import os
import pwd
import re
import shutil
import subprocess

import pytest

from conftest import SERVER_KIND, ssh_argv, throwaway_user
from test_sessions import write_authorized_keys

ENV_USER = "wbs-env"
KEY_ENV = ["_WB_K=key", "_WB_F=key", "_WB_X=key", "PATH=/wb-key/bin:/usr/bin:/bin",
           "HOME=/tmp/keyhome"]


@pytest.fixture(scope="module")
def account(keys):
    """A throw-away account (/bin/sh, so no one's shell start-up files run)
    whose ~/.ssh/authorized_keys holds the test key with the environment=
    options KEY_ENV (they count only under PermitUserEnvironment)."""
    with throwaway_user(ENV_USER, "the environment tests") as name:
        # no password, but not locked ("!"), which sshd would refuse
        # (WOMBAT_TEST_SERVER=sshd)
        subprocess.run(["usermod", "-p", "*", name], check=True)
        pw = pwd.getpwnam(name)
        ssh_dir = os.path.join(pw.pw_dir, ".ssh")
        os.makedirs(ssh_dir, mode=0o700)
        ak = os.path.join(ssh_dir, "authorized_keys")
        write_authorized_keys(ak, ",".join(f'environment="{v}"' for v in KEY_ENV),
                              keys.user["ed25519"] + ".pub")
        for path in (ssh_dir, ak):
            shutil.chown(path, name, name)
        yield pw


def start(start_server, opts, authorized_keys="%h/.ssh/authorized_keys"):
    return start_server(list(opts), authorized_keys=authorized_keys)


def remote_env(server, cmd="env", opts=(), sendenv=None, key=None, user=ENV_USER,
               tty=False):
    """Run cmd (default `env`) through /usr/bin/ssh; return (CompletedProcess,
    {name: value}) parsed from its NAME=value output lines. sendenv: {name:
    value} put into ssh's own environment and named in SendEnv."""
    opts = list(opts)
    env = dict(os.environ)
    for name, value in (sendenv or {}).items():
        env[name] = value
        opts.append(f"SendEnv={name}")
    argv = ssh_argv(server, cmd, key=key, opts=opts, user=user)
    if tty:
        argv[1:1] = ["-tt"]
    r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    seen = {}
    for line in r.stdout.splitlines():
        name, eq, value = line.rstrip("\r").partition("=")
        if eq and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            seen[name] = value
    return r, seen


def real_account(pw):
    return {"USER": pw.pw_name, "LOGNAME": pw.pw_name, "HOME": pw.pw_dir,
            "SHELL": pw.pw_shell, "MAIL": f"/var/mail/{pw.pw_name}"}


def test_setenv_beats_the_client(start_server, account):
    """AcceptEnv * and SetEnv _WB_X=23: the client sending _WB_X=1 (either
    way) still sees 23."""
    srv = start(start_server, ["AcceptEnv=*", "SetEnv=_WB_X=23"])
    try:
        for how in ("SetEnv", "SendEnv"):
            if how == "SetEnv":
                r, env = remote_env(srv, opts=["SetEnv=_WB_X=1"])
            else:
                r, env = remote_env(srv, sendenv={"_WB_X": "1"})
            assert r.returncode == 0, r.stderr
            assert env.get("_WB_X") == "23", (how, env.get("_WB_X"))
    finally:
        srv.stop()


def test_client_cannot_replace_server_variables(start_server, account):
    """AcceptEnv *: the client's USER, HOME, PATH, SSH_CONNECTION, ... are
    replaced by the real ones; a harmless variable still arrives."""
    srv = start(start_server, ["AcceptEnv=*"])
    fake = {"HOME": "/tmp/x", "USER": "evil", "LOGNAME": "evil", "SHELL": "/bin/evil",
            "PATH": "/evil/bin", "MAIL": "/tmp/evil-mail",
            "SSH_CONNECTION": "10.6.6.6 6666 10.6.6.7 22",
            "SSH_CLIENT": "10.6.6.6 6666 22", "SSH_TTY": "/dev/pts/666"}
    try:
        for how in ("SetEnv", "SendEnv"):
            if how == "SetEnv":
                opts = ["SetEnv=" + " ".join(f'"{k}={v}"' for k, v in fake.items())
                        + " _WB_OK=hello"]
                r, env = remote_env(srv, opts=opts)
            else:       # ssh itself takes none of these from its environment
                r, env = remote_env(srv, sendenv=dict(fake, _WB_OK="hello"))
            assert r.returncode == 0, r.stderr
            for name, value in real_account(account).items():
                assert env.get(name) == value, (how, name, env.get(name))
            assert env.get("PATH") != "/evil/bin", how
            conn = env.get("SSH_CONNECTION", "").split()
            assert len(conn) == 4 and conn[0] == "127.0.0.1" and conn[2] == "127.0.0.1" \
                and int(conn[3]) == srv.port, (how, conn)
            assert env.get("SSH_CLIENT", "").split()[0] == "127.0.0.1", how
            if SERVER_KIND == "wombatd":
                # no pty, so no SSH_TTY: sshd passes the client's through
                assert "SSH_TTY" not in env, (how, env.get("SSH_TTY"))
            assert env.get("_WB_OK") == "hello", how
    finally:
        srv.stop()


def test_only_accepted_variables_arrive(start_server, account):
    srv = start(start_server, ["AcceptEnv=_WB_OK*"])
    try:
        r, env = remote_env(srv, opts=["SetEnv=_WB_OK1=yes _WB_NO=no"],
                            sendenv={"_WB_OK2": "yes too", "_WB_NO2": "no"})
        assert r.returncode == 0, r.stderr
        assert env.get("_WB_OK1") == "yes" and env.get("_WB_OK2") == "yes too", env
        assert "_WB_NO" not in env and "_WB_NO2" not in env, env
    finally:
        srv.stop()


def test_pty_term_and_tty_beat_the_client(start_server, account, keys):
    """With a pty, TERM is the pty-req's terminal type and SSH_TTY the pty,
    whatever the client sends as variables, even before its pty-req.
    (paramiko: OpenSSH's ssh puts its SetEnv TERM into the pty-req too.)"""
    import paramiko
    srv = start(start_server, ["AcceptEnv=*"])
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    try:
        client.connect("127.0.0.1", port=srv.port, username=ENV_USER,
                       key_filename=keys.user["ed25519"], look_for_keys=False,
                       allow_agent=False, timeout=10)
        chan = client.get_transport().open_session(timeout=10)
        chan.set_environment_variable("TERM", "evil")
        chan.set_environment_variable("SSH_TTY", "/dev/pts/666")
        chan.set_environment_variable("_WB_OK", "hello")
        chan.get_pty(term="xterm-wbtest")
        chan.exec_command("env")
        chan.settimeout(20)
        out = b""
        while True:
            chunk = chan.recv(65536)
            if not chunk:
                break
            out += chunk
        env = dict(line.rstrip("\r").partition("=")[::2]
                   for line in out.decode().splitlines() if "=" in line)
        assert env.get("TERM") == "xterm-wbtest", env.get("TERM")
        assert re.fullmatch(r"/dev/pts/\d+", env.get("SSH_TTY", "")), env.get("SSH_TTY")
        assert env["SSH_TTY"] != "/dev/pts/666"
        assert env.get("_WB_OK") == "hello"
    finally:
        client.close()
        srv.stop()


def test_term_without_pty_is_the_clients(start_server, account):
    """No pty-req, no server TERM: an accepted TERM arrives as sent."""
    srv = start(start_server, ["AcceptEnv=TERM"])
    try:
        r, env = remote_env(srv, opts=["SetEnv=TERM=vt100-wbtest"])
        assert r.returncode == 0, r.stderr
        assert env.get("TERM") == "vt100-wbtest", env.get("TERM")
    finally:
        srv.stop()


def test_forced_command_sees_the_real_original_command(start_server, account):
    srv = start(start_server, ["AcceptEnv=*", "ForceCommand=env"])
    try:
        r, env = remote_env(srv, cmd="echo asked",
                            opts=["SetEnv=SSH_ORIGINAL_COMMAND=evil"])
        assert r.returncode == 0, r.stderr
        assert env.get("SSH_ORIGINAL_COMMAND") == "echo asked", env
    finally:
        srv.stop()


def test_key_environment_between_client_and_setenv(start_server, account):
    """PermitUserEnvironment yes: the key's environment= beats the client
    and the server's default PATH, SetEnv beats the key; HOME is not the
    key's to change (OpenSSH lets it: wombat keeps the account's)."""
    srv = start(start_server, ["PermitUserEnvironment=yes", "AcceptEnv=*",
                               "SetEnv=_WB_X=23"])
    try:
        r, env = remote_env(srv, opts=["SetEnv=_WB_K=client _WB_X=client _WB_C=client "
                                       "PATH=/client/bin"])
        assert r.returncode == 0, r.stderr
        assert env.get("_WB_K") == "key", env.get("_WB_K")
        assert env.get("_WB_X") == "23", env.get("_WB_X")
        assert env.get("_WB_C") == "client"
        assert env.get("PATH") == "/wb-key/bin:/usr/bin:/bin", env.get("PATH")
        if SERVER_KIND == "wombatd":
            assert env.get("HOME") == account.pw_dir, env.get("HOME")
    finally:
        srv.stop()


def test_user_file_after_key_and_before_setenv(start_server, account):
    """~/.ssh/environment comes after the key's environment= (sshd(8) reads
    it last of the user's settings), may set PATH and TERM, and loses to
    SetEnv and to USER."""
    envfile = os.path.join(account.pw_dir, ".ssh", "environment")
    with open(envfile, "w") as f:
        f.write("_WB_F=file\nPATH=/wb-file/bin:/usr/bin:/bin\nTERM=file-term\n"
                "_WB_X=file\nUSER=file-user\n")
    shutil.chown(envfile, account.pw_name, account.pw_name)
    srv = start(start_server, ["PermitUserEnvironment=yes", "AcceptEnv=*",
                               "SetEnv=_WB_X=23"])
    try:
        os.environ.setdefault("TERM", "xterm")
        r, env = remote_env(srv, opts=["SetEnv=_WB_F=client"], tty=True)
        assert r.returncode == 0, r.stderr
        assert env.get("_WB_F") == "file", env.get("_WB_F")
        assert env.get("_WB_K") == "key"
        assert env.get("PATH") == "/wb-file/bin:/usr/bin:/bin", env.get("PATH")
        assert env.get("TERM") == "file-term", env.get("TERM")
        assert env.get("_WB_X") == "23", env.get("_WB_X")
        if SERVER_KIND == "wombatd":
            assert env.get("USER") == account.pw_name, env.get("USER")
    finally:
        srv.stop()
        os.unlink(envfile)
