"""Fixtures of the fault-injection suite (issue 7): real binaries, real broker, real processes.

Every test says what it injected and what it measured through `record`, which prints the row and
appends it to .build-reliability/results.jsonl; docs/reliability.md is the table of those rows.
The binaries come from LICHTWEG_BIN_DIR (scripts/reliability builds release ones and sets it).
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO / "Tests" / "ui"))
os.environ.setdefault("LICHTWEG_BIN_DIR", str(REPO / ".build-release" / "release"))

RESULTS = Path(os.environ.get("LICHTWEG_RELIABILITY_OUT", REPO / ".build-reliability")) / "results.jsonl"


@pytest.fixture
def record(request):
    """record(fault, injected, measured: dict, command=None): one row of the reliability table."""
    def _record(fault: str, injected: str, measured: dict, command: str | None = None) -> None:
        row = {
            "test": request.node.nodeid,
            "fault": fault,
            "injected": injected,
            "measured": measured,
            "command": command or f"scripts/reliability -k {request.node.name}",
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        with RESULTS.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(f"\n[{fault}] injected: {injected}\n  measured: {json.dumps(measured)}")
    return _record
