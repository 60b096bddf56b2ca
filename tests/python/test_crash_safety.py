"""Crash safety: a writer of each kind (index, update log, results folder, training checkpoint) is
SIGKILLed at random moments while it saves over and over; after every kill the file on disk is one
complete generation (the reader checks its content against the generation it announces), and a
training killed mid-run resumes from its checkpoint to exactly the weights of an uninterrupted run.
make test kills each writer 8 times; make test-crash (LOOKALIKE_FULL=1) 100 times."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT

HARNESS = ROOT / "tests" / "python" / "crash_harness.py"
KILLS = 100 if os.environ.get("LOOKALIKE_FULL") else 8


@pytest.mark.parametrize("writer", ["index", "update_log", "results", "checkpoint"])
def test_kills_leave_a_complete_file(tmp_path, writer):
    proc = subprocess.run([sys.executable, str(HARNESS), writer, str(KILLS), str(tmp_path), "7"],
                          capture_output=True, text=True, timeout=3600,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["failures"] == [], summary["failures"]
    assert len(summary["reads"]) == KILLS and summary["before_first_save"] == 0
    if writer != "checkpoint":  # kills landed at different points of the save loop
        assert len(set(summary["reads"])) > 1, summary["reads"]


def test_the_reader_catches_a_file_written_in_place(tmp_path):
    """The negative control: a writer without temp file + rename leaves truncated files that the
    same kind of check finds, so the checks above can fail."""
    proc = subprocess.run([sys.executable, str(HARNESS), "plain", "8", str(tmp_path), "7"], capture_output=True,
                          text=True, timeout=600, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(summary["failures"]) >= 4 and all("truncated" in f["error"] for f in summary["failures"])
