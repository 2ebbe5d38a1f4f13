"""`netpol-viz` as a user runs it: a real subprocess from the repository root."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m webapp ARGS`, text output."""
    return subprocess.run(
        [sys.executable, "-m", "webapp", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def cli_bytes(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run `python -m webapp ARGS` with `stdin` as its standard input, bytes output."""
    return subprocess.run(
        [sys.executable, "-m", "webapp", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        timeout=120,
    )
