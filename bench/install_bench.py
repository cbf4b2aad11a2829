"""What `pip install govledger` costs: the base package beside the full one (`govledger[all]`).

Run from the repository root::

    .venv/bin/python -m bench.install_bench [--cache]

Each contender gets a fresh virtual environment (created untimed, with this interpreter) and
`pip install` of this checkout, base then full, in the same run: the time pip takes (downloads
included: pip's cache is off unless --cache, so both start cold; building govledger's own wheel
is in both), and the size of the environment's site-packages afterwards, in total and beyond
what an empty environment already holds (pip itself). Ratio = base ÷ full. The environments live
in a temporary directory that is removed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.harness import Result, console, environment, load_average, print_report

REPO = Path(__file__).resolve().parent.parent


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def megabytes(root: Path) -> float:
    """Bytes on disk of every file under `root` (as `du` counts them), in MB."""
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder, name)
            if not path.is_symlink():
                total += path.lstat().st_blocks * 512
    return total / 1e6


def install(work: Path, extra: str, *, cache: bool) -> tuple[float, float, float, int]:
    """(pip seconds, site-packages MB, MB beyond an empty venv, distributions installed)."""
    venv = work / (extra or "base")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    empty = megabytes(site_packages(venv))
    target = f"{REPO}[{extra}]" if extra else str(REPO)
    command = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    console.log(f"pip install {'govledger[' + extra + ']' if extra else 'govledger'} into a fresh venv")
    start = time.perf_counter()
    subprocess.run([*command, *([] if cache else ["--no-cache-dir"]), target], check=True)
    seconds = time.perf_counter() - start
    listed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    size = megabytes(site_packages(venv))
    return seconds, size, size - empty, len(listed)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.install_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--cache", action="store_true", help="let pip use its cache (default: cold, no cache)")
    args = parser.parse_args(argv)
    header = environment(["pip"])
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="govledger-install-bench-") as tmp:
        base = install(Path(tmp), "", cache=args.cache)
        full = install(Path(tmp), "all", cache=args.cache)
    results = [
        Result("pip install govledger (base)", base[0], "s", "pip install 'govledger[all]'", full[0]),
        Result("site-packages, base", base[1], "MB", "site-packages, all", full[1]),
        Result("site-packages beyond an empty venv, base", base[2], "MB", "the same, all", full[2]),
    ]
    notes = [
        f"distributions installed: base {base[3]}, all {full[3]} (pip and what a fresh venv holds included)",
        f"pip cache: {'on' if args.cache else 'off (--no-cache-dir): downloads included'}",
    ]
    command = " ".join(["python -m bench.install_bench", *(sys.argv[1:] if argv is None else argv)])
    lines = [*header, f"run time: {time.perf_counter() - started:.0f} s", f"load average at end: {load_average()}"]
    print_report(command, [*lines, *notes], results, title="base install vs full install (ratio = base ÷ full)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
