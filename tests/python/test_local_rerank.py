"""The local_rerank study at a tiny setting: the global order's figures equal the ranked metrics of
an independent kNN, re-ranking moves only the verified top-K, the families partition the
queries, and bad configs fail before anything runs."""
import pytest
import torch

import lookalike
from lookalike import config, eval as ev, local, runner
from conftest import ROOT

GROCERY = lookalike._core.data.shared_data_dir("grocery-store")
PRETRAINED = lookalike._core.data.shared_data_dir("pretrained")
pytestmark = pytest.mark.skipif(not GROCERY or not PRETRAINED, reason="grocery-store or pretrained weights missing")
CONFIG = str(ROOT / "experiments" / "local_rerank.yaml")
TINY = ["data.max_per_class=2", "data.image_size=160", "rerank.top_k=5", "local.max_features=200",
        "examples=2", "global.net.input_size=96"]


def test_grocery_tiny_run(tmp_path):
    m = runner.run(CONFIG, TINY, out=str(tmp_path))
    refs = m["metrics"]["references"]
    assert set(refs) >= {"global", "inliers", "fused", "cost"}
    fams = [f for f in refs["global"] if f != "all"]
    assert fams == ["Fruit", "Packages", "Vegetables"]
    assert sum(refs["global"][f]["num_queries"] for f in fams) == refs["global"]["all"]["num_queries"] == 162
    # R@5 cannot change: re-ranking permutes the top 5 only
    for order in ("inliers", "fused"):
        assert refs[order]["all"]["recall_at_10"] == refs["global"]["all"]["recall_at_10"]
    assert refs["cost"]["pairs"] == 162 * 5
    assert m["metrics"]["catalogue"]["cost"]["pairs"] == 162 * 5
    for f in ("report.md", "gain_references.png", "matches_catalogue.png", "features_catalogue.bin"):
        assert (tmp_path / f).exists(), f
    feats, meta = local.load_features(tmp_path / "features_catalogue.bin")
    assert len(feats) == 81 and len(meta["paths"]) == 81 and meta["local"]["method"] == "sift"
    assert "| Packages (" in (tmp_path / "report.md").read_text()


def test_global_order_equals_an_independent_knn(tmp_path):
    """The 'global' row is the ranked metrics of the global top-K: recomputed here from the same
    photos and network through the public API."""
    from lookalike import data, train
    m = runner.run(CONFIG, TINY + ["data.catalogue=false", "examples=0"], out=str(tmp_path))
    q = data.image_set("grocery", split="test", image_size=160, max_per_class=2)
    r = data.image_set("grocery", split="train", image_size=160, max_per_class=2)
    net = train.network(backbone="mobilenet_v2", weights="{pretrained}/mobilenet_v2_1.0_224_quant.tflite",
                        embedding_dim=0, input_size=96, in_channels=3)
    _, ids = ev.exact_knn(net.embed(q.images), net.embed(r.images), 5)
    want = ev.ranked_metrics(ids, q.labels, r.labels, k=(1, 10))
    got = m["metrics"]["references"]["global"]["all"]
    for key in ("precision_at_1", "recall_at_10", "map_at_r"):
        assert got[key] == pytest.approx(want[key]), key
    assert "catalogue" not in m["metrics"]


@pytest.mark.parametrize("change, match", [
    (["rerank.score=fused"], "rerank.score"),
    (["local.threads=1"], "local.threads"),
    (["local.method=surf"], "surf"),
    (["data.query_fraction=0.5"], "query_fraction"),
    (["rerank.verify.model=projective"], "projective"),
    (["global.net.backbone=vgg"], "vgg"),
    (["crop.treshold=0.3"], "treshold"),
    (["crop.probe.epochs=0"], "epochs"),
])
def test_bad_configs_fail_before_running(tmp_path, change, match):
    with pytest.raises(ValueError, match=match):
        runner.run(CONFIG, TINY + change, out=str(tmp_path))
    assert not (tmp_path / "metrics.json").exists()


def test_cropped_queries_are_searched_as_their_regions(tmp_path):
    """With crop set, the 'cropped' order is the global search of each query's CAM-box crop:
    recomputed here through the public API (probe, localise, crop, embed, kNN)."""
    from lookalike import data, localise, train
    m = runner.run(CONFIG, TINY + ["data.catalogue=false", "examples=1", "crop.threshold=0.3",
                                   "crop.probe.epochs=50"], out=str(tmp_path))
    got = m["metrics"]["references"]["cropped"]["all"]
    q = data.image_set("grocery", split="test", image_size=160, max_per_class=2)
    r = data.image_set("grocery", split="train", image_size=160, max_per_class=2)
    opts = dict(backbone="mobilenet_v2", weights="{pretrained}/mobilenet_v2_1.0_224_quant.tflite",
                embedding_dim=0, input_size=96, in_channels=3)
    net = train.network(**opts)
    probe = train.network(**opts, num_classes=len(q.class_names))
    localise.fit_probe(probe, localise.pooled_features(probe, r.images), r.labels, epochs=50)
    boxes = localise.localise(probe, q.images, threshold=0.3)[0]
    crops = localise.crop(q.images, boxes, 160)
    _, ids = ev.exact_knn(net.embed(crops), net.embed(r.images), 5)
    want = ev.ranked_metrics(ids, q.labels, r.labels, k=(1, 10))
    for key in ("precision_at_1", "map_at_r"):
        assert got[key] == pytest.approx(want[key]), key
    assert (tmp_path / "crops.png").exists()
    assert "cropped" in (tmp_path / "report.md").read_text()


FASHION = lookalike._core.data.shared_data_dir("fashion-products")


@pytest.mark.skipif(not FASHION, reason="fashion-products missing")
def test_reshot_queries_search_for_their_originals(tmp_path):
    """data.reshot: each query is a re-shot copy of one photo and its one relevant reference is
    that photo (instance labels); the global order equals an independent kNN's metrics."""
    cfg = str(ROOT / "experiments" / "local_rerank_fashion.yaml")
    m = runner.run(cfg, ["data.max_per_class=1", "data.image_size=96", "global.net.input_size=96",
                         "rerank.top_k=5", "local.max_features=200", "examples=1"], out=str(tmp_path))
    refs = m["metrics"]["references"]
    s = m["sizes"]
    assert s["classes"] == s["references"] and refs["global"]["all"]["num_queries"] == s["queries"]
    assert list(refs["global"]) == ["all"]
    for order in ("inliers", "fused"):
        assert refs[order]["all"]["recall_at_10"] == refs["global"]["all"]["recall_at_10"]
    # re-shot copies of catalogue photos are found far above chance (1 / references)
    assert refs["global"]["all"]["precision_at_1"] > 0.3
    with pytest.raises(ValueError, match="reshot"):
        runner.run(CONFIG, TINY + ["data.reshot=true"], out=str(tmp_path / "x"))
    with pytest.raises(ValueError, match="crop"):
        runner.run(cfg, ["data.max_per_class=1", "crop.threshold=0.5"], out=str(tmp_path / "y"))
