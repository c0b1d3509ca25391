"""wombat-keygen against OpenSSH's ssh-keygen: fingerprints agree, and the
files each tool writes are read by the other."""
import subprocess
from pathlib import Path

import pytest

from conftest import WOMBAT_KEYGEN

KEYGEN = Path(WOMBAT_KEYGEN)

SSH_KEY_SPECS = [
    ("ed25519", []),
    ("ecdsa", ["-b", "256"]),
    ("ecdsa", ["-b", "384"]),
    ("ecdsa", ["-b", "521"]),
    ("rsa", ["-b", "3072"]),
]
WOMBAT_KEY_SPECS = [
    ("ed25519", [], 256),
    ("ecdsa", ["-b", "256"], 256),
    ("ecdsa", ["-b", "384"], 384),
    ("ecdsa", ["-b", "521"], 521),
    ("rsa", [], 3072),
    ("rsa", ["-b", "2048"], 2048),
]


def run(*args, check=True, **kw):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          check=check, **kw)


def spec_id(spec):
    return spec[0] + "".join(spec[1][1:])


def fields(line):
    """(bits, fingerprint, type) of an `-l` output line."""
    parts = line.split()
    return parts[0], parts[1], parts[-1]


@pytest.fixture(scope="module", autouse=True)
def binaries():
    if not KEYGEN.exists():
        pytest.fail(f"{KEYGEN} not built (run make wombat-keygen)")


@pytest.mark.parametrize("spec", SSH_KEY_SPECS, ids=spec_id)
def test_fingerprint_of_openssh_key(tmp_path, spec):
    ktype, extra = spec
    key = tmp_path / "id"
    run("ssh-keygen", "-q", "-t", ktype, *extra, "-N", "", "-C", "someone@example", "-f", key)
    theirs = run("ssh-keygen", "-l", "-f", key).stdout.strip()
    ours_priv = run(KEYGEN, "-l", "-f", key).stdout.strip()
    ours_pub = run(KEYGEN, "-l", "-f", f"{key}.pub").stdout.strip()
    assert fields(ours_priv) == fields(theirs)
    assert fields(ours_pub) == fields(theirs)
    assert "someone@example" in ours_pub
    # -y gives back the same public key as OpenSSH wrote
    ours_y = run(KEYGEN, "-y", "-f", key).stdout.split()
    assert ours_y[:2] == Path(f"{key}.pub").read_text().split()[:2]


@pytest.mark.parametrize("spec", WOMBAT_KEY_SPECS, ids=spec_id)
def test_wombat_key_read_by_openssh(tmp_path, spec):
    ktype, extra, bits = spec
    key = tmp_path / "host_key"
    out = run(KEYGEN, "-t", ktype, *extra, "-f", key, "-C", "made by wombat").stdout
    assert (key.stat().st_mode & 0o777) == 0o600
    pub = Path(f"{key}.pub").read_text()
    assert pub.endswith(" made by wombat\n")
    assert pub.split()[:2] == out.splitlines()[2].split()[:2]

    # OpenSSH derives the same public key from our private file
    derived = run("ssh-keygen", "-y", "-f", key).stdout.split()
    assert derived[:2] == pub.split()[:2]

    theirs = run("ssh-keygen", "-l", "-f", key).stdout.strip()
    ours = run(KEYGEN, "-l", "-f", key).stdout.strip()
    assert fields(ours) == fields(theirs)
    assert fields(ours)[0] == str(bits)
    assert fields(ours)[1] in out


@pytest.mark.parametrize("spec", WOMBAT_KEY_SPECS[:5], ids=spec_id)
def test_openssh_signs_with_wombat_key(tmp_path, spec):
    """Every private field we write is right: ssh-keygen signs with it and the
    signature checks against our .pub."""
    ktype, extra, _ = spec
    key = tmp_path / "k"
    msg = tmp_path / "msg"
    msg.write_text("wombat\n")
    run(KEYGEN, "-t", ktype, *extra, "-f", key)
    with open(msg) as f:
        sig = run("ssh-keygen", "-Y", "sign", "-f", key, "-n", "file", stdin=f).stdout
    sigfile = tmp_path / "msg.sig"
    sigfile.write_text(sig)
    with open(msg) as f:
        run("ssh-keygen", "-Y", "check-novalidate", "-n", "file", "-f", f"{key}.pub",
            "-s", sigfile, stdin=f)


def test_refuses_to_overwrite(tmp_path):
    key = tmp_path / "k"
    key.write_text("precious\n")
    r = run(KEYGEN, "-t", "ed25519", "-f", key, check=False)
    assert r.returncode == 1
    assert "already exists" in r.stderr
    assert key.read_text() == "precious\n"


def test_encrypted_key_refused(tmp_path):
    key = tmp_path / "k"
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "secret pass", "-f", key)
    r = run(KEYGEN, "-y", "-f", key, check=False)
    assert r.returncode == 1
    assert "encrypted keys are not supported" in r.stderr


@pytest.mark.parametrize("args", [
    ["-t", "dsa", "-f", "X"],
    ["-t", "ecdsa", "-b", "300", "-f", "X"],
    ["-t", "rsa", "-b", "512", "-f", "X"],
    ["-l"],
    ["-l", "-f", "MISSING"],
    ["-y", "-f", "GARBAGE"],
])
def test_bad_usage(tmp_path, args):
    (tmp_path / "GARBAGE").write_text("not a key\n")
    r = run(KEYGEN, *args, check=False, cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr.strip()
    assert not (tmp_path / "X").exists()
