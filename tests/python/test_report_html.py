"""report.html: a study run writes one self-contained page (no outside resource, every figure
embedded, the report's tables as HTML), and headless Chromium opens it with no console message,
every image decoded, and a screenshot that is not blank. The console check is itself checked on
a page with a deliberate error."""
import re
import shutil
import subprocess

import numpy as np
import pytest

from lookalike import runner

from conftest import ROOT

CHROMIUM = shutil.which("chromium")
SMALL = ["data.train_limit=600", "data.test_limit=300", "train.epochs=1", "train.channels=[8, 16]",
         "train.embedding_dim=16", "plots.embedding_points=200", "train.progress='off'"]


def _chromium(page, *flags):
    proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--enable-logging=stderr", "--v=0", *flags, page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    console = [ln for ln in proc.stderr.splitlines() if ":CONSOLE" in ln]
    return proc, console


def test_study_writes_a_self_contained_page(tmp_path):
    m = runner.run(str(ROOT / "experiments" / "fmnist_baseline.yaml"), SMALL, out=str(tmp_path))
    page = (tmp_path / "report.html").read_text()
    assert "report.html" in m["artifacts"]
    pngs = [a for a in m["artifacts"] if a.endswith(".png")]
    assert pngs and page.count('src="data:image/png;base64,') == len(pngs)
    assert not re.search(r'(src|href)="(https?:|//|file:)', page)  # nothing from outside
    assert "fmnist_baseline" in page and "test_accuracy" in page  # no report.md: the metrics


@pytest.mark.skipif(not CHROMIUM, reason="chromium not installed (scripts/bootstrap.sh installs it)")
def test_chromium_opens_it_cleanly(tmp_path):
    import cv2

    m = runner.run(str(ROOT / "experiments" / "fmnist_baseline.yaml"), SMALL, out=str(tmp_path))
    page = tmp_path / "report.html"
    n = sum(a.endswith(".png") for a in m["artifacts"])
    proc, console = _chromium(page, "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f'data-images-loaded="{n}/{n}"' in proc.stdout
    assert console == []
    shot = tmp_path / "shot.png"
    proc, console = _chromium(page, "--window-size=1200,1600", f"--screenshot={shot}")
    img = cv2.imread(str(shot))
    assert img is not None and img.shape[:2] == (1600, 1200)
    assert (img < 200).any(axis=2).mean() > 0.01 and img.std() > 10  # text and plots, not a blank page
    # The detector itself: a page with an error and a broken image is caught.
    bad = tmp_path / "bad.html"
    bad.write_text(page.read_text().replace("</body>", '<img src="missing.png"><script>nope();</script></body>'))
    proc, console = _chromium(bad, "--dump-dom")
    assert any("nope is not defined" in ln for ln in console)
    assert f'data-images-loaded="{n}/{n + 1}"' in proc.stdout


def test_report_md_tables_become_html(tmp_path):
    from lookalike import report_html

    (tmp_path / "report.md").write_text("# R\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    html = report_html.render(tmp_path, {"study": "s", "name": "n", "artifacts": ["report.md"]})
    assert "<table>" in html and "<td>1</td>" in html and "<h1>R</h1>" in html
