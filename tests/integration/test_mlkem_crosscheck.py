"""Cross-check our ML-KEM-768 against @noble/post-quantum (an independent
FIPS 203 implementation, run with node), the way test_crypto_crosscheck.py
checks X25519/Ed25519 against python3-cryptography.

Both ways, over a few hundred random key pairs:
  ours -> noble: test_mlkem768 --dump N SEED prints our keys (from seeds d, z),
      ciphertexts (from message m), shared secrets, the implicit-rejection
      secret of an altered ciphertext and our verdict on an encapsulation key
      failing the modulus check; noble must derive the same keys, the same
      ciphertext and secret, decapsulate ours to the same secret, agree on the
      rejection secret and refuse the bad key too.
  noble -> ours: noble's random key pairs and ciphertexts; test_mlkem768
      --decaps must get noble's secrets.

node and npm come from bootstrap's TEST_DEPS; the packages (pinned in
tests/unit/vectors/package.json) are installed on first use. Without the npm
registry the test is skipped, saying so; the vendored noble answers in
tests/unit/mlkem768_vectors.h still run in `make unit`. This test builds
nothing: run `make tests/unit/test_mlkem768` first.
"""
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, built

BINARY = Path(built("tests", "unit", "test_mlkem768"))
VECTORS = Path(REPO) / "tests" / "unit" / "vectors"
SCRIPT = VECTORS / "mlkem768_noble.mjs"
COUNT = 300


def noble_installed():
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.fail("node and npm are needed (bootstrap's TEST_DEPS: nodejs npm)")
    if (VECTORS / "node_modules" / "@noble" / "post-quantum").is_dir():
        return
    r = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(VECTORS)],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        if any(s in r.stderr for s in ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED",
                                       "ETIMEDOUT", "ENETUNREACH", "network")):
            pytest.skip("SKIPPED: the npm registry is unreachable, so @noble/post-quantum "
                        "cannot be installed; the cross-check did not run:\n" + r.stderr[-500:])
        pytest.fail("npm install failed:\n" + r.stderr[-2000:])


@pytest.mark.parametrize("seed", [1, random.SystemRandom().randrange(1, 2**63)])
def test_mlkem768_against_noble(seed, tmp_path):
    if not BINARY.exists():
        pytest.fail(f"{BINARY} is missing: build it with `make tests/unit/test_mlkem768`")
    noble_installed()
    ours = subprocess.run([str(BINARY), "--dump", str(COUNT), str(seed)],
                          capture_output=True, timeout=300, check=True).stdout
    assert ours.count(b"\n") == COUNT
    checked = subprocess.run(["node", str(SCRIPT), "check"], input=ours,
                             capture_output=True, timeout=600)
    assert checked.returncode == 0, \
        f"seed {seed}: noble disagrees with us: {checked.stderr.decode()[-2000:]}"
    assert f"checked {COUNT} of our".encode() in checked.stderr
    theirs = checked.stdout
    assert theirs.count(b"\n") == COUNT
    back = subprocess.run([str(BINARY), "--decaps"], input=theirs,
                          capture_output=True, timeout=300)
    assert back.returncode == 0, f"seed {seed}: {back.stderr.decode()[-2000:]}"
    assert f"decapsulated {COUNT} of noble's ciphertexts, 0 wrong".encode() in back.stdout
