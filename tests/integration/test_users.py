"""Several real accounts logging in to one wombatd: identity, home,
supplementary groups, file isolation, tty ownership, login records.
Needs root (to create throw-away users and to switch to them)."""
import os
import pwd
import grp
import re
import time
import shutil
import subprocess

import pytest

from conftest import IS_ROOT, install_key, keygen, ssh, unlock_for_keys
from test_sessions import PtyClient

pytestmark = pytest.mark.skipif(not IS_ROOT, reason="creating users and switching "
                                "to them needs root")

USERS = ["wbtest1", "wbtest2"]
EXTRA_GROUP = "wbtestgrp"


def run(*argv):
    subprocess.run(argv, check=True, capture_output=True)


def remove_accounts():
    for user in USERS:
        subprocess.run(["userdel", "-r", "-f", user], capture_output=True)
    subprocess.run(["groupdel", EXTRA_GROUP], capture_output=True)


@pytest.fixture(scope="module")
def accounts(tmp_path_factory):
    """name -> private key path, for freshly created users; removed after."""
    if not shutil.which("useradd"):
        pytest.skip("useradd is not installed")
    remove_accounts()            # leftovers of an interrupted run
    keydir = tmp_path_factory.mktemp("userkeys")
    made = {}
    try:
        run("groupadd", EXTRA_GROUP)
        for user in USERS:
            run("useradd", "-m", "-s", "/bin/bash", user)
            unlock_for_keys(user)
            key = keygen(keydir / f"id_{user}", "ed25519")
            install_key(user, key + ".pub")
            made[user] = key
        run("usermod", "-a", "-G", EXTRA_GROUP, USERS[0])
        yield made
    finally:
        remove_accounts()


@pytest.fixture(scope="module")
def user_server(start_server, accounts):
    srv = start_server(["PrintMotd=no"], authorized_keys="%h/.ssh/authorized_keys")
    yield srv
    srv.stop()


def as_user(server, accounts, user, cmd, **kw):
    return ssh(server, cmd, key=accounts[user], user=user, text=True, **kw)


def test_each_user_gets_identity_home_and_groups(user_server, accounts):
    for user in USERS:
        pw = pwd.getpwnam(user)
        r = as_user(user_server, accounts, user, "id -u; id -g; pwd; echo $HOME $USER; id -G")
        assert r.returncode == 0, r.stderr
        uid, gid, cwd, env, groups = r.stdout.splitlines()
        assert int(uid) == pw.pw_uid and int(gid) == pw.pw_gid
        assert cwd == pw.pw_dir
        assert env == f"{pw.pw_dir} {user}"
        extra = grp.getgrnam(EXTRA_GROUP).gr_gid
        assert (str(extra) in groups.split()) == (user == USERS[0]), groups


def test_one_users_key_does_not_open_another_account(user_server, accounts):
    r = ssh(user_server, "true", key=accounts[USERS[1]], user=USERS[0])
    assert r.returncode == 255
    assert b"Permission denied" in r.stderr


def test_users_cannot_read_each_others_private_files(user_server, accounts):
    owner, other = USERS
    r = as_user(user_server, accounts, owner,
                "umask 077; echo secret-data > ~/secret; ls -l ~/secret")
    assert r.returncode == 0 and r.stdout.startswith("-rw-------"), r.stderr
    home = pwd.getpwnam(owner).pw_dir
    r = as_user(user_server, accounts, other, f"cat {home}/secret")
    assert r.returncode != 0
    assert "secret-data" not in r.stdout
    assert "Permission denied" in r.stderr


def test_pty_belongs_to_the_user(user_server, accounts):
    user = USERS[0]
    r = as_user(user_server, accounts, user, "stat -c %U:%G:%a $(tty)",
                opts=["RequestTTY=force"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"{user}:tty:620"


def shell_greeting(server, key, user):
    """Everything a pty login shell prints before its first prompt."""
    c = PtyClient(server, key=key, opts=[f"User={user}"])
    try:
        m = c.expect(r"(?s)^(.*?)[#$] ")
        c.send("exit\r")
        assert c.wait() == 0
        return m.group(1).decode("utf-8", "replace")
    finally:
        c.close()


def test_login_records_and_last_login(user_server, accounts):
    user = USERS[1]
    mark = user_server.mark()
    first = shell_greeting(user_server, accounts[user], user)
    assert "Last login" not in first
    second = shell_greeting(user_server, accounts[user], user)
    if os.path.exists("/var/log/lastlog"):
        assert re.search(r"Last login: .* from 127\.0\.0\.1", second), second
    # one line per login and one per logout, with the user and duration; the
    # server may log the end a moment after the client has exited
    ended = rf"Connection from 127\.0\.0\.1 port \d+ ended: .*user {user}; \d+s"
    deadline = time.monotonic() + 5
    while len(re.findall(ended, user_server.log(mark))) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    log = user_server.log(mark)
    assert len(re.findall(rf"Accepted publickey for {user} from 127\.0\.0\.1", log)) == 2
    assert len(re.findall(rf"Connection from 127\.0\.0\.1 port \d+ ended: .*user {user}; \d+s",
                          log)) == 2, log
    if os.path.exists("/var/log/wtmp") and shutil.which("utmpdump"):
        dump = subprocess.run(["utmpdump", "/var/log/wtmp"], capture_output=True,
                              text=True).stdout
        logins = [l for l in dump.splitlines()
                  if l.startswith("[7]") and f"[{user}" in l and "[127.0.0.1" in l]
        assert len(logins) >= 2, dump[-2000:]
        line = re.search(r"\[(pts/\d+)\s*\]", logins[-1]).group(1)
        after = dump[dump.rindex(logins[-1]):]
        assert re.search(rf"^\[8\].*\[{re.escape(line)}\s*\]", after, re.M), after


@pytest.mark.parametrize("permit", ["no", "yes"])
def test_user_environment_file(start_server, accounts, permit):
    """~/.ssh/environment is read (as the user) only with
    PermitUserEnvironment yes, as sshd(8) does."""
    user = USERS[0]
    pw = pwd.getpwnam(user)
    envfile = os.path.join(pw.pw_dir, ".ssh", "environment")
    with open(envfile, "w") as f:
        f.write("# comment\n\nWB_FILEVAR=from-file\nnot a variable\n")
    os.chown(envfile, pw.pw_uid, pw.pw_gid)
    os.chmod(envfile, 0o600)
    srv = start_server([f"PermitUserEnvironment={permit}"],
                       authorized_keys="%h/.ssh/authorized_keys")
    try:
        r = as_user(srv, accounts, user, 'echo "[$WB_FILEVAR]"')
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == ("[from-file]" if permit == "yes" else "[]")
    finally:
        srv.stop()
        os.unlink(envfile)
