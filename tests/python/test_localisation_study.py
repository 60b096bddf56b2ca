"""The localisation study at a tiny setting: its figures equal the public API's on the same rows
(box accuracy recomputed from boxes.csv), the baselines are what they claim, and bad configs fail
before anything runs."""
import csv

import pytest
import torch

import lookalike
from lookalike import localise, runner
from conftest import ROOT

CCP = lookalike._core.data.shared_data_dir("clothing-co-parsing")
PRETRAINED = lookalike._core.data.shared_data_dir("pretrained")
pytestmark = pytest.mark.skipif(not CCP or not PRETRAINED, reason="clothing-co-parsing or pretrained weights missing")
CONFIG = str(ROOT / "experiments" / "localisation_ccp.yaml")
TINY = ["data.image_size=96", "max_boxed_photos=40", "probe.epochs=50", "examples=3"]


def test_tiny_run_agrees_with_its_boxes(tmp_path):
    m = runner.run(CONFIG, TINY, out=str(tmp_path))
    o, z = m["overall"], m["sizes"]
    assert z["boxed_photos"] == 40 and z["photos"] == 2098
    for f in ("report.md", "boxes.csv", "accuracy_vs_threshold.png", "examples.png"):
        assert (tmp_path / f).exists(), f
    with open(tmp_path / "boxes.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == z["boxes"]
    pred = torch.tensor([[int(r[k]) for k in ("x0", "y0", "x1", "y1")] for r in rows])
    true = torch.tensor([[int(r[k]) for k in ("true_x0", "true_y0", "true_x1", "true_y1")] for r in rows])
    iou = localise.box_iou(pred, true)
    assert torch.allclose(iou, torch.tensor([float(r["iou"]) for r in rows]), atol=1e-4)
    assert o["gt_known"] == pytest.approx(float((iou >= 0.5).float().mean()))
    assert {float(r["threshold"]) for r in rows} <= {round(t, 2) for t in o["cv_thresholds"]}
    assert o["gt_known"] <= o["max_box_acc"] + 1e-9
    # MaxBoxAcc is the best of the curve, and at least the accuracy at any one threshold
    assert o["max_box_acc"] == pytest.approx(max(m["curve"]["accuracy"]))
    assert o["whole"] < o["centred"]  # garments are far smaller than the photo
    tags = {r["tag"] for r in rows}
    assert {t["tag"] for t in m["per_tag"]} == tags
    assert sum(t["boxes"] for t in m["per_tag"]) == z["boxes"]
    assert "| CAM, threshold 0.2 (configured) |" in (tmp_path / "report.md").read_text()


@pytest.mark.parametrize("change, match", [
    (["localise.threshold=1.5"], "threshold"),
    (["localise.cam.method=scorecam"], "scorecam"),
    (["data.separator=|"], "separator"),
    (["net.num_classes=3"], "num_classes"),
    (["probe.pos_weight=sometimes"], None),
    (["eval.threshold_step=0"], "step"),
])
def test_bad_configs_fail(change, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        runner.run(CONFIG, TINY + change, out=str(tmp_path))
