"""Progress on long work: the Python reporter's bar and lines modes, the index sweep's build in
tenths (same table as the exact truth), the Trainer's line per epoch when stderr is a log, and the
study stages' lines."""
import io
import subprocess
import sys

import pytest

from lookalike.progress import Progress, duration

from conftest import ROOT


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_lines_mode_writes_a_line_per_tenth_and_the_end():
    s = io.StringIO()
    with Progress(1000, "build", stream=s) as p:
        for done in range(0, 1001, 50):
            p.update(done)
    lines = s.getvalue().splitlines()
    assert lines[0] == "[build] started (1000 to do)" and lines[-1].startswith("[build] done in ")
    ticks = [ln for ln in lines if "%" in ln]
    assert len(ticks) == 10 and ticks[-1].startswith("[build] 1000/1000 (100%)") and "ETA" in ticks[0]


def test_bar_mode_redraws_in_place_and_off_is_silent():
    t = Tty()
    with Progress(10, "add", stream=t) as p:  # auto on a terminal: the bar
        p.update(10)
    assert "\r[add] [####################] 10/10" in t.getvalue() and t.getvalue().rstrip().endswith("s")
    s = io.StringIO()
    with Progress(10, "x", mode="off", stream=s) as p:
        p.update(5)
    assert s.getvalue() == ""
    with pytest.raises(ValueError, match="progress mode"):
        Progress(1, "x", mode="loud")
    assert duration(5) == "5.0 s" and duration(245) == "4 min 05 s" and duration(3720 * 2) == "2 h 04 min"


def test_a_failed_step_says_so():
    s = io.StringIO()
    with pytest.raises(RuntimeError):
        with Progress(3, "step", stream=s):
            raise RuntimeError("boom")
    assert "[step] failed in" in s.getvalue()


def _run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)


def test_trainer_writes_a_line_per_epoch_into_a_log():
    proc = _run("import torch, lookalike\n"
                "x = torch.rand(64, 1, 8, 8); y = torch.arange(64) % 4\n"
                "lookalike.fit(x, y, val=(x, y), epochs=3, batch_size=16, backbone='convnet', channels=[4],"
                " embedding_dim=4, num_classes=4)\n")
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("[train] epoch")]
    assert [ln.split()[2] for ln in lines] == ["1/3", "2/3", "3/3"], proc.stderr
    assert "val_accuracy" in lines[0] and "ETA" in lines[0] and "img/s" in lines[0]
    quiet = _run("import torch, lookalike\n"
                 "lookalike.fit(torch.rand(16, 1, 8, 8), torch.arange(16) % 2, epochs=1, batch_size=8, backbone='convnet',"
                 " channels=[4], embedding_dim=4, num_classes=2, progress='off')\n")
    assert quiet.returncode == 0 and "[train]" not in quiet.stderr


def test_sweep_reports_its_build_and_settings(capfd):
    import torch

    import lookalike

    x = torch.nn.functional.normalize(torch.randn(500, 16), dim=1)
    q = torch.nn.functional.normalize(torch.randn(20, 16), dim=1)
    table = lookalike.eval.sweep(["Flat"], None, x, q, k=5, latency_queries=5, progress="lines")
    err = capfd.readouterr().err
    assert "[sweep Flat: add] 500/500 (100%)" in err and "[sweep Flat: search settings] done in" in err
    assert table.loc[0, "neighbour_recall"] > 0.999  # added in tenths, still every vector with its id
