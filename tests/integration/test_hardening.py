"""The built binaries carry the hardening configure turns on by default
(configure.ac, "hardening"): read ./wombatd and ./wombat-keygen with
readelf (binutils) and check each property in the ELF file itself.

A --enable-static build on a toolchain without static-pie is a plain static
executable: not position-independent, and with no dynamic section there is
no run-time binding for BIND_NOW to make eager. Those two checks say so and
skip; that case is detected from the binary, not from how it was configured.

These are the release binaries at the top of the tree even when
WOMBAT_BIN_DIR points the other tests at the sanitizer build (make
check-asan), which leaves _FORTIFY_SOURCE and the other hardening out.
"""
import os
import re
import shutil
import subprocess

import pytest

from conftest import REPO

BINARIES = ["wombatd", "wombat-keygen"]


def readelf(*args):
    if not shutil.which("readelf"):
        pytest.fail("readelf is not installed (package binutils, in bootstrap's TEST_DEPS)")
    return subprocess.run(["readelf", "-W", *args], check=True, capture_output=True,
                          text=True).stdout


class Elf:
    """What readelf says about one built binary."""

    def __init__(self, name):
        self.path = os.path.join(REPO, name)
        if not os.access(self.path, os.X_OK):
            pytest.fail(f"{self.path} is not built: run make first")
        m = re.search(r"^\s*Type:\s+(\w+)", readelf("-h", self.path), re.M)
        self.type = m.group(1)
        self.segments = set(re.findall(r"^\s+([A-Z_]+)\s+0x", readelf("-l", self.path), re.M))
        self.dynamic = readelf("-d", self.path)
        self.symbols = readelf("-s", self.path)

    def is_plain_static(self):
        """Linked statically, not as static-pie: no interpreter, no dynamic section."""
        return self.type == "EXEC" and not {"INTERP", "DYNAMIC"} & self.segments

    def dynamic_flags(self, tag):
        """Words of a dynamic-section flags entry: FLAGS -> {"BIND_NOW"}, FLAGS_1 -> {"NOW", "PIE"}."""
        m = re.search(r"\(" + tag + r"\)\s+(?:Flags:)?\s*(.*)$", self.dynamic, re.M)
        return set(m.group(1).split()) if m else set()

    def symbol_names(self):
        """(name, section index) of every symbol, .dynsym and .symtab."""
        found = []
        for line in self.symbols.splitlines():
            f = line.split()
            # Num: Value Size Type Bind Vis Ndx Name
            if len(f) >= 8 and f[0].endswith(":") and f[0][:-1].isdigit():
                found.append((f[7].split("@")[0], f[6]))
        return found


@pytest.fixture(scope="module", params=BINARIES)
def elf(request):
    return Elf(request.param)


def test_pie(elf):
    if elf.is_plain_static():
        pytest.skip(f"{elf.path} is a static non-PIE executable (--enable-static on a "
                    "toolchain without static-pie): no PIE to check")
    assert elf.type == "DYN", f"{elf.path}: ELF type {elf.type}, not DYN (not PIE)"
    assert "PIE" in elf.dynamic_flags("FLAGS_1"), \
        f"{elf.path}: DF_1_PIE not set (a shared object, not a PIE?):\n{elf.dynamic}"


def test_bind_now(elf):
    if elf.is_plain_static():
        pytest.skip(f"{elf.path} is static without a dynamic section: nothing is "
                    "bound at run time, so there is no BIND_NOW to set")
    assert "BIND_NOW" in elf.dynamic_flags("FLAGS") or "NOW" in elf.dynamic_flags("FLAGS_1"), \
        f"{elf.path}: neither FLAGS BIND_NOW nor FLAGS_1 NOW (-z now missing):\n{elf.dynamic}"


def test_relro(elf):
    assert "GNU_RELRO" in elf.segments, \
        f"{elf.path}: no GNU_RELRO segment (-z relro missing): {sorted(elf.segments)}"


def referenced(elf, name_rx):
    """Symbols matching name_rx that the binary uses: imported (undefined in
    .dynsym) from a dynamic binary; linked in from libc.a for a static one
    (an archive member is only linked in when something refers to it)."""
    rx = re.compile(name_rx)
    names = [(n, ndx) for n, ndx in elf.symbol_names() if rx.fullmatch(n)]
    if elf.type == "DYN" and "INTERP" in elf.segments:
        return sorted({n for n, ndx in names if ndx == "UND"})
    return sorted({n for n, _ in names})


def test_stack_protector(elf):
    assert referenced(elf, r"__stack_chk_fail"), \
        f"{elf.path}: no reference to __stack_chk_fail (-fstack-protector-strong missing)"


def test_fortify(elf):
    chk = referenced(elf, r"__\w+_chk")
    chk = [n for n in chk if n != "__stack_chk_fail"]
    assert chk, f"{elf.path}: no fortified __*_chk calls (_FORTIFY_SOURCE missing)"
