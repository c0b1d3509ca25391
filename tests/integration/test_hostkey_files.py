"""Host key files that cannot be used: bad permissions or owner, a key type
wombat does not have (DSA), a corrupt file.

As sshd: such a key is refused, logged with the file's name and the reason,
and wombatd serves with the keys that did load; it fails only when none
loads. -t reports the bad keys and, like `sshd -t`, exits non-zero only
when no key loads.
"""
import os
import shutil
import subprocess

import pytest

from conftest import (IS_ROOT, SERVER_KIND, SSH_KEYGEN, WOMBATD, assert_good_login,
                      free_port, server_argv)

pytestmark = pytest.mark.skipif(SERVER_KIND != "wombatd",
                                reason="wombatd's messages and -t are checked here")


def copy_key(src, dst, mode):
    shutil.copyfile(src, dst)
    os.chmod(dst, mode)
    return str(dst)


@pytest.fixture
def loose_key(keys, tmp_path):
    """A copy of the ed25519 host key that group and others may read."""
    return copy_key(keys.host["ed25519"], tmp_path / "loose_host_key", 0o644)


@pytest.fixture
def dsa_key(tmp_path):
    path = str(tmp_path / "dsa_host_key")
    subprocess.run([SSH_KEYGEN, "-q", "-t", "dsa", "-N", "", "-f", path], check=True,
                   stdin=subprocess.DEVNULL)
    return path


@pytest.fixture
def corrupt_key(keys, tmp_path):
    """An OpenSSH private key file with its middle overwritten."""
    path = tmp_path / "corrupt_host_key"
    with open(keys.host["ecdsa"]) as f:
        lines = f.read().splitlines(True)
    lines[2] = "A" * (len(lines[2]) - 1) + "\n"
    path.write_text("".join(lines))
    os.chmod(path, 0o600)
    return str(path)


def check_config(*host_keys):
    argv = [WOMBATD, "-t", "-o", "PidFile=none"]
    for k in host_keys:
        argv += ["-h", k]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)


def start_must_fail(keys, host_keys):
    """Start wombatd in the foreground with only these host keys; it must
    exit (non-zero) on its own. Returns its output."""
    argv = server_argv("wombatd", free_port(), host_keys, keys.authorized_keys, [])
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=20,
                           stdin=subprocess.DEVNULL, start_new_session=True)
    except subprocess.TimeoutExpired:
        pytest.fail("wombatd started (did not exit) with no usable host key")
    assert r.returncode != 0, f"exited 0 with no usable host key:\n{r.stderr}"
    return r.stdout + r.stderr


def test_t_refuses_group_readable_key(loose_key):
    r = check_config(loose_key)
    assert r.returncode != 0, r.stderr
    assert loose_key in r.stderr and "0644" in r.stderr, r.stderr


def test_start_with_only_group_readable_key_fails(keys, loose_key):
    out = start_must_fail(keys, [loose_key])
    assert loose_key in out and "0644" in out, out


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o602], ids=lambda m: f"{m:04o}")
def test_any_group_or_other_bit_refuses(keys, tmp_path, mode):
    key = copy_key(keys.host["ed25519"], tmp_path / "k", mode)
    r = check_config(key)
    assert r.returncode != 0 and key in r.stderr and f"{mode:04o}" in r.stderr, r.stderr


def test_owner_read_only_key_is_fine(keys, tmp_path):
    r = check_config(copy_key(keys.host["ed25519"], tmp_path / "k", 0o400))
    assert r.returncode == 0, r.stderr


def test_group_readable_key_beside_good_one_is_skipped(start_server, keys, loose_key):
    srv = start_server(host_keys=[loose_key, keys.host["rsa"]])
    assert_good_login(srv)
    m = srv.wait_log(r"host key skipped: " + loose_key + r".*0644")
    assert m, srv.log()
    # and the refused key is not offered: ed25519 came only from loose_key
    r = subprocess.run(["ssh-keyscan", "-t", "ed25519", "-p", str(srv.port), "127.0.0.1"],
                       capture_output=True, text=True, timeout=30)
    assert "ssh-ed25519" not in r.stdout, r.stdout


@pytest.mark.skipif(not IS_ROOT, reason="chown to another user needs root")
def test_key_owned_by_another_user_is_refused(keys, tmp_path):
    key = copy_key(keys.host["ed25519"], tmp_path / "k", 0o600)
    os.chown(key, 65534, -1)
    r = check_config(key)
    assert r.returncode != 0 and key in r.stderr and "owned by uid 65534" in r.stderr, \
        r.stderr


def test_dsa_and_corrupt_keys_beside_good_one(start_server, keys, dsa_key, corrupt_key):
    srv = start_server(host_keys=[dsa_key, corrupt_key, keys.host["ed25519"]])
    assert_good_login(srv)
    assert srv.wait_log(r"host key skipped: " + dsa_key + r": unsupported key type"), srv.log()
    assert srv.wait_log(r"host key skipped: " + corrupt_key), srv.log()


def test_t_reports_bad_keys_but_passes_with_a_good_one(keys, dsa_key, corrupt_key):
    # `sshd -t` does the same: exit 0 while one key loads, the others reported.
    r = check_config(dsa_key, corrupt_key, keys.host["ed25519"])
    assert r.returncode == 0, r.stderr
    assert dsa_key in r.stderr and corrupt_key in r.stderr, r.stderr


def test_only_bad_keys_fails(keys, dsa_key, corrupt_key):
    r = check_config(dsa_key, corrupt_key)
    assert r.returncode != 0, r.stderr
    assert dsa_key in r.stderr and corrupt_key in r.stderr, r.stderr
    out = start_must_fail(keys, [dsa_key, corrupt_key])
    assert dsa_key in out and corrupt_key in out, out
