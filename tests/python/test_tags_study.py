"""The tags study at a tiny setting: its files agree with its figures and with the public API
(the saved tagger's thresholds and scores, AP recomputed from the tagger on the test photos), the
learning curves are nested, and bad configs fail before anything runs."""
import csv
import json

import pytest
import torch

import lookalike
from lookalike import runner, tags
from lookalike import eval as ev
from conftest import ROOT

CCP = lookalike._core.data.shared_data_dir("clothing-co-parsing")
FASHION = lookalike._core.data.shared_data_dir("fashion-products")
PRETRAINED = lookalike._core.data.shared_data_dir("pretrained")
pytestmark = pytest.mark.skipif(not CCP or not FASHION or not PRETRAINED, reason="shared data missing")
CCP_CONFIG = str(ROOT / "experiments" / "tags_ccp.yaml")
FASHION_CONFIG = str(ROOT / "experiments" / "tags_fashion.yaml")
TINY = ["data.image_size=48", "max_photos=200", "train.epochs=1", "train.freeze_stages=0", "curves.fractions=[0.25,0.5]", "examples=2",
        "net.backbone=convnet", "net.weights=''", "net.channels=[8,16]", "net.embedding_dim=16"]


def test_tiny_ccp_run_agrees_with_its_files(tmp_path):
    m = runner.run(CCP_CONFIG, TINY + ["crop.enabled=true", "crop.probe.epochs=20"], out=str(tmp_path))
    z = m["sizes"]
    assert z["photos"] == 200 and z["train"] + z["val"] + z["test"] == 200
    for f in ("report.md", "per_tag.csv", "thresholds.json", "tagger.pt", "learning_curves.png", "pr_curves.png",
              "ap_by_run.png", "examples.png"):
        assert (tmp_path / f).exists(), f
    assert set(m["runs"]) == {"bce", "asl", "scratch", "cropped"}
    with open(tmp_path / "per_tag.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["tag"] for r in rows] == [t["tag"] for t in m["per_tag"]] and len(rows) == z["tags"]
    saved = json.loads((tmp_path / "thresholds.json").read_text())
    tagger = tags.load(str(tmp_path / "tagger.pt"))
    assert tagger.tags == saved["tags"]
    assert torch.allclose(tagger.thresholds, torch.tensor(saved["threshold"]))
    # the main run's macro mAP is the mean of its per-tag APs (tags with a positive in test)
    aps = [float(r["ap_asl"]) for r in rows if r["ap_asl"] != "nan"]
    assert m["runs"]["asl"]["map_macro"] == pytest.approx(sum(aps) / len(aps), abs=1e-6)
    c = m["curves"]
    assert c["fractions"] == [0.25, 0.5, 1.0] and c["photos"] == sorted(c["photos"])
    assert c["map_macro"][-1] == pytest.approx(m["runs"]["asl"]["map_macro"])
    assert "| asl |" in (tmp_path / "report.md").read_text()


def test_tiny_fashion_run_with_fusion(tmp_path):
    m = runner.run(FASHION_CONFIG, TINY + ["fusion.text.epochs=1", "fusion.probe.epochs=20", "losses=[{name: asl}]",
                                           "scratch.enabled=false", "curves.fractions=[0.5]",
                                           "search.tags=['usage:Casual']"], out=str(tmp_path))
    fams = m["sizes"]["families"]
    assert {"gender", "articleType", "usage", "season", "baseColour"} <= set(fams)
    f = m["fusion"]
    assert set(f) >= {"image", "title", "fused", "tags"}
    assert "pattern" not in {k for k, v in f["fused"]["family_map"].items() if v == v}  # mined: left out
    # the title says the gender ("Men ... Shirt"): the title probe knows it better than chance
    assert f["title"]["family_map"]["gender"] > 0.5
    assert "Image + title" in (tmp_path / "report.md").read_text()
    se = m["search"]["tags"][0]
    assert se["tag"] == "usage:Casual" and se["queries"] > 0
    for mode in ("plain", "filter", "rerank"):
        assert 0 <= se[f"{mode}_tag_share"] <= 1 and 0 <= se[f"{mode}_relevance"] <= 1


@pytest.mark.parametrize("change, match", [
    (["curves.fractions=[1.5]"], "fractions"),
    (["losses=[{name: hinge}]"], "hinge"),
    (["train.tag_pos_weight=inverse"], "tag_pos_weight"),
    (["split.test=0.9"], "split"),
    (["net.num_classes=3"], "num_classes"),
    (["train.colour=1"], "colour"),
    (["crop.threshold=2"], "crop.threshold"),
    (["fusion.enabled=true"], "title"),  # clothing-co-parsing has no titles
])
def test_bad_configs_fail(change, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        runner.run(CCP_CONFIG, TINY + change, out=str(tmp_path))
