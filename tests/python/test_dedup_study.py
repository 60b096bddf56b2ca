"""Duplicate-recall study: hash candidates against NumPy, recall/overlap/Venn and Shopee F1 against hand-made cases, the matcher against
sklearn, the title encoder, and the study end to end on small runs (the listings reader and
re-listings: test_listings.py)."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import lookalike
from lookalike import config, dedup, runner

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
FASHION_IMG = SHARED / "fashion-products" / "images"
needs_faiss = pytest.mark.skipif(not lookalike.build_info()["faiss"], reason="this build has no FAISS")
needs_xapian = pytest.mark.skipif(not lookalike.build_info()["xapian"], reason="this build has no Xapian")


def write(path: Path, data) -> Path:
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


# ------------------------------------------------------------------------------------ listings


def test_split_groups_keeps_groups_whole():
    g = torch.tensor([0, 0, 1, 2, 2, 2, 3, 4, 4, 5])
    tr, te = dedup.split_groups(g, 0.5, seed=3)
    assert sorted(tr.tolist() + te.tolist()) == list(range(10))
    assert not set(g[tr].tolist()) & set(g[te].tolist())


# --------------------------------------------------------------------------------- candidates

@needs_faiss
def test_hamming_candidates_match_numpy():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 256, size=(300, 8), dtype=np.uint8)
    codes[10] = codes[20]  # an exact duplicate
    ids, dist = dedup._d.hamming_candidates(torch.from_numpy(codes), 5)
    bits = np.unpackbits(codes, axis=1).astype(np.int32)
    d = (bits[:, None, :] != bits[None, :, :]).sum(-1)
    np.fill_diagonal(d, 10 ** 6)
    ref = np.sort(d, axis=1)[:, :5]
    assert np.array_equal(dist.numpy().astype(int), ref)
    assert all(i not in row for i, row in enumerate(ids.tolist()))
    assert ids[10, 0] == 20 and ids[20, 0] == 10 and dist[10, 0] == 0
    got = d[np.arange(300)[:, None], ids.numpy()]
    assert np.array_equal(got, ref)  # the ids really are at those distances


def test_drop_self_anywhere_in_the_list():
    ids = torch.tensor([[1, 0, 2], [1, 0, 2], [-1, 0, 1]])
    sc = torch.tensor([[1.0, 1.0, 0.5], [0.9, 0.8, 0.1], [0.0, 0.7, 0.6]])
    oi, os_ = dedup.drop_self(ids, sc, 2)
    assert oi.tolist() == [[1, 2], [0, 2], [0, 1]]
    assert os_.flatten().tolist() == pytest.approx([1.0, 0.5, 0.8, 0.1, 0.7, 0.6])


# ------------------------------------------------------------------------- recall and overlap

def test_compare_pipelines_hand_made():
    # Items 0..5; groups {0,1,2}, {3,4}, {5}. Queries 0 and 3: 2 + 1 = 3 true pairs.
    groups = torch.tensor([0, 0, 0, 1, 1, 2])
    q = torch.tensor([0, 3])
    a = torch.tensor([[1, 5, 2], [4, 0, -1]])   # A: 0->1 @1, 0->2 @3, 3->4 @1
    b = torch.tensor([[2, 3, 4], [5, 1, 0]])    # B: 0->2 @1
    assert dedup.true_pairs(q, groups) == 3
    pa, pb = dedup.same_group(q, a, groups), dedup.same_group(q, b, groups)
    assert pa.tolist() == [[True, False, True], [True, False, False]]
    r = dedup.compare_pipelines([a, b], [pa, pb], q, [1, 3])
    assert r.found == [[2, 3], [1, 1]]
    assert r.union_found == [3, 3]          # @1: 0->1, 3->4 (A), 0->2 (B)
    assert r.overlap == [[3, 1], [1, 1]]    # at n = 3: A {01, 02, 34}, B {02}
    assert r.venn == [0, 2, 0, 1]           # only A: 2; only B: 0; both: 1
    assert r.only[0].tolist() == [[0, 1], [3, 4]] and r.only[1].shape == (0, 2)


def test_summary_gain_and_overlap_shares():
    groups = torch.tensor([0, 0, 0, 1, 1, 2])
    q = torch.tensor([0, 3])
    a, b = torch.tensor([[1, 5, 2], [4, 0, -1]]), torch.tensor([[2, 3, 4], [5, 1, 0]])
    r = dedup.compare_pipelines([a, b], [dedup.same_group(q, a, groups), dedup.same_group(q, b, groups)], q, [1, 3])
    s = dedup.summarise(r, ["bm25", "text"], 3, "bm25")
    assert s["pair_recall"]["bm25"] == {"1": 2 / 3, "3": 1.0} and s["pair_recall"]["union"]["1"] == 1.0
    assert s["found"]["text"] == {"1": 1, "3": 1} and s["relative_gain_over_bm25"]["text"]["1"] == pytest.approx(-0.5)
    assert s["gain_over_bm25"]["union"]["1"] == pytest.approx(1 / 3)
    assert s["overlap_share"]["bm25"]["text"] == pytest.approx(1 / 3) and s["overlap_share"]["text"]["bm25"] == 1.0
    assert s["venn"] == {"bm25": 2, "bm25&text": 1}


def test_cluster_scores_shopee_f1_by_hand():
    truth = torch.tensor([0, 0, 0, 1, 1])
    pred = torch.tensor([5, 5, 6, 6, 7])
    # item 0: P {0,1}, T {0,1,2}: F1 = 2*2/(2+3) = 0.8; item 1 the same; item 2: P {2,3},
    # T {0,1,2}: 2*1/5 = 0.4; item 3: P {2,3}, T {3,4}: 2/4 = 0.5; item 4: P {4}, T {3,4}: 2/3.
    s = dedup.cluster_scores(pred, truth)
    assert s["mean_f1"] == pytest.approx((0.8 + 0.8 + 0.4 + 0.5 + 2 / 3) / 5)
    # ordered pairs: predicted 1+1+1+1+0 = 4, true 2+2+2+1+1 = 8, both 1+1+0+0+0 = 2
    assert s["pair_precision"] == pytest.approx(0.5) and s["pair_recall"] == pytest.approx(0.25)
    sub = dedup.cluster_scores(pred, truth, torch.tensor([3, 4]))
    assert sub["mean_f1"] == pytest.approx((0.5 + 2 / 3) / 2)


# ------------------------------------------------------------------------------------- matcher

def test_pair_features_by_hand():
    items = dedup.Listings(ids=list("abc"), titles=["red cotton shirt", "Red shirt", "lamp"], texts=[], groups=None,
                           attrs={"colour": ["red", "RED", ""], "price": ["10", "12.5", "x"]},
                           phash=torch.tensor([[0] * 8, [0] * 7 + [3], [255] * 8], dtype=torch.uint8))
    emb = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]), dim=1)
    pairs = torch.tensor([[0, 1], [1, 2]])
    cands = (torch.tensor([[1, 2], [0, 2], [0, 1]]), torch.tensor([[5.0, 1.0], [4.0, 2.0], [0.5, 0.25]]))
    x, names = dedup.pair_features(pairs, items, embeddings={"text": emb}, candidate_scores={"bm25": cands})
    assert names == ["cos_text", "phash_similarity", "title_jaccard", "title_length_ratio", "title_code_match", "same_colour",
                     "ratio_price", "has_price", "score_bm25"]
    r = 2 ** -0.5
    assert x[0].tolist() == pytest.approx([r, 1 - 2 / 64, 2 / 3, 2 / 3, 0.0, 1.0, 10 / 12.5, 1.0, 5.0])
    assert x[1].tolist() == pytest.approx([r, 1 - 62 / 64, 0.0, 0.5, 0.0, 0.5, 0.0, 0.0, 2.0])
    # Code words: "hp 302127-b21 kit" and "compaq 302127 b21 lic": shared "302127" of {302127, b21}
    # and {302127, b21}: 2 of 2; "iphone 11" has no 3+ character code word.
    codes = dedup.Listings(ids=list("abc"), titles=["hp 302127-b21 kit", "compaq 302127 b21 lic", "iphone 11"],
                           texts=[], groups=None)
    x, names = dedup.pair_features(torch.tensor([[0, 1], [0, 2]]), codes, embeddings={})
    assert x[:, names.index("title_code_match")].tolist() == [1.0, 0.0]


def test_matcher_equals_sklearn_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 4))
    y = (x @ [1.5, -2.0, 0.5, 0.0] + 0.3 * rng.normal(size=400) > 0.2).astype(int)
    x = (x - x.mean(0)) / x.std(0)  # the matcher standardises; sklearn sees the same scale
    for l2 in (0.1, 1.0, 10.0):
        m = dedup.Matcher(l2=l2).fit(torch.from_numpy(x), torch.from_numpy(y))
        ref = LogisticRegression(C=1 / l2, tol=1e-10, max_iter=1000).fit(x, y)
        assert m.coef.numpy() == pytest.approx(ref.coef_[0], abs=1e-5)
        assert m.intercept == pytest.approx(ref.intercept_[0], abs=1e-5)
        assert m.predict_proba(torch.from_numpy(x)).numpy() == pytest.approx(ref.predict_proba(x)[:, 1], abs=1e-5)
    with pytest.raises(ValueError, match="both matching and non-matching"):
        dedup.Matcher().fit(torch.from_numpy(x), torch.ones(400, dtype=torch.int64))
    with pytest.raises(ValueError, match="NaN"):
        bad = torch.from_numpy(x).clone()
        bad[0, 0] = float("nan")
        dedup.Matcher().fit(bad, torch.from_numpy(y))
    with pytest.raises(ValueError, match="not fitted"):
        dedup.Matcher().predict(torch.from_numpy(x))


def test_best_f1_threshold_by_hand():
    s = torch.tensor([0.9, 0.8, 0.8, 0.4, 0.1], dtype=torch.float64)
    y = torch.tensor([1, 0, 1, 1, 0], dtype=torch.bool)
    c = dedup.best_f1_threshold(s, y)
    # >= 0.9: P 1, R 1/3, F1 .5; >= 0.8: P 2/3, R 2/3, F1 2/3; >= 0.4: P 3/4, R 1, F1 6/7.
    assert c["threshold"] == 0.4 and c["f1"] == pytest.approx(6 / 7)


# ------------------------------------------------------------------------------- text encoder

def test_tokenize_hash_and_perturb():
    assert dedup.tokenize("Men's NAVY-blue Shirt (XL)") == ["men", "s", "navy", "blue", "shirt", "xl"]
    f = dedup._d.hash_features("ab", 1000, 3, 3, True)
    assert len(f) == 1 + 2 and all(0 <= b < 1000 for b in f)  # word + "<ab", "ab>"
    t = "Turtle Check Men Navy Blue Shirt"
    outs = {dedup.perturb_title(t, seed=s) for s in range(20)}
    assert len(outs) > 10 and dedup.perturb_title(t, seed=4) == dedup.perturb_title(t, seed=4)
    assert dedup.perturb_title(t, seed=1, drop=0, reorder=0, abbreviate=0, typo=0, boilerplate=0, case_change=0) == t
    with pytest.raises(ValueError, match=r"unknown option 'shuffle' \(TitleNoise\)"):
        dedup.perturb_title(t, shuffle=1.0)


def test_text_encoder_learns_groups_and_round_trips(tmp_path):
    # Titles of 60 products, 2 offers each: the second is a re-typed copy. Train on 40
    # products; the held-out 20 must find their twin more often than the untrained encoder.
    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(300)]
    base = [" ".join(rng.choice(vocab, 6, replace=False)) for _ in range(60)]
    texts = base + [dedup.perturb_title(t, seed=i) for i, t in enumerate(base)]
    groups = torch.arange(120) % 60
    train = torch.tensor([i for i in range(120) if i % 60 < 40])
    test_q = torch.arange(40, 60)

    def twin_rate(enc):
        e = enc.encode(texts)
        s = e[test_q] @ e.T
        s[torch.arange(20), test_q] = -2
        return (s.argmax(1) == test_q + 60).float().mean().item()

    enc = dedup.TextEncoder(dim=64, epochs=8, batch_size=16, buckets=1 << 14, seed=0).fit(texts, groups, train)
    assert len(enc.history) == 8 and enc.history[-1]["loss"] < enc.history[0]["loss"]
    assert enc.history[0]["group_pairs"] == 80
    assert twin_rate(enc) >= 0.9
    enc.save(tmp_path / "enc.pt")
    again = dedup.TextEncoder.load(tmp_path / "enc.pt")
    assert torch.equal(again.encode(texts), enc.encode(texts))
    with pytest.raises(OSError, match="not a lookalike text encoder"):
        write(tmp_path / "bad.pt", b"nope")
        dedup.TextEncoder.load(tmp_path / "bad.pt")


# ---------------------------------------------------------------------------------- the study

def _check_report(m, out, names):
    rec = m["ground_truth"]["pair_recall"]
    for name in names + ["union"]:
        vals = [rec[name][n] for n in ("1", "5", "10")]
        assert all(0 <= v <= 1 for v in vals) and vals == sorted(vals)
    for n in ("1", "5", "10"):
        assert rec["union"][n] >= max(rec[p][n] for p in names) - 1e-12
    for a in names:
        assert m["ground_truth"]["overlap_share"][a][a] in (1.0, None)
    assert (out / "report.md").exists() and (out / "recall_at_n.png").exists() and (out / "venn.png").exists()
    assert 0 <= m["matcher"]["precision"] <= 1 and m["matcher"]["train_pairs"] > 0


@needs_xapian
@needs_faiss
@pytest.mark.skipif(not (SHARED / "shopee-dev").exists(), reason="shopee-dev missing")
def test_study_small_shopee(tmp_path):
    m = runner.run(str(ROOT / "experiments" / "dedup_shopee.yaml"),
                   ["ns=[1,5,10]", "text.epochs=1", "text.dim=64", "queries=150", "threads=2"], out=str(tmp_path))
    _check_report(m, tmp_path, ["bm25", "text", "phash"])
    assert m["split"]["queries"] == 150 and m["data"]["items"] == 1499
    assert 0 < m["clustering"]["singletons_test_mean_f1"] < 1 and "test_mean_f1" in m["clustering"]
    mc = m["matcher_clustering"]
    assert mc["pairs_accepted"] <= mc["pairs_judged"] and 0 <= mc["test"]["mean_f1"] <= 1
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["ground_truth"]["pair_recall"]["union"]["10"] == m["ground_truth"]["pair_recall"]["union"]["10"]


@needs_xapian
@pytest.mark.skipif(not (SHARED / "amazon-google").exists(), reason="amazon-google missing")
def test_study_small_amazon_google(tmp_path):
    m = runner.run(str(ROOT / "experiments" / "dedup_amazon_google.yaml"),
                   ["ns=[1,5,10]", "text.epochs=1", "text.dim=64", "data.limit=1000", "threads=2"], out=str(tmp_path))
    _check_report(m, tmp_path, ["bm25", "text"])
    assert m["data"]["items"] == 2000 and m["data"]["skipped"]["gold pairs with a row not loaded"] > 0


@needs_xapian
@pytest.mark.skipif(not FASHION_IMG.exists() or not lookalike.build_info()["opencv"], reason="needs images + OpenCV")
@pytest.mark.parametrize("image", [["image.epochs=1"], ["image.train=false", "image.label=group", "image.epochs=8",
                                                        "image.freeze_stages=0", "image.lr=0.001"]])
def test_study_small_fashion_simulated(tmp_path, image):
    m = runner.run(str(ROOT / "experiments" / "dedup_fashion.yaml"),
                   ["ns=[1,5,10]", "text.epochs=1", "text.dim=64", "data.limit=240", "data.image_size=32",
                    "data.relist.originals=80", "queries=100", "threads=2"] + image, out=str(tmp_path))
    _check_report(m, tmp_path, ["bm25", "text", "image"])
    info = m["pipelines"]["image"] if "pipelines" in m else {}
    if "image.train=false" in image:  # the pretrained backbone as loaded: nothing trained
        assert info.get("trained") is False, info
    assert m["data"]["simulated_groups"] is True and "SIMULATED" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "gallery.png").exists()


def test_study_bad_config(tmp_path):
    f = write(tmp_path / "l.csv", "id,title\n1,a\n2,b\n")
    with pytest.raises(ValueError, match="group_col"):
        runner.run(str(ROOT / "experiments" / "dedup_amazon_google.yaml"), ["data.set=listings", f"data.path={f}"],
                   out=str(tmp_path / "o"))
    with pytest.raises(ValueError, match=r"unknown option 'bm25.k_1' \(Bm25Options\); known: k1, b, language"):
        dedup.make_pipeline("bm25", k_1=1.0)
    with pytest.raises(ValueError, match=r"unknown option 'image.chanels'"):
        dedup.make_pipeline("image", chanels=[8])
    with pytest.raises(ValueError, match=r"image.train false: option 'image.epochs' does not apply"):
        dedup.make_pipeline("image", train=False, epochs=3)
    with pytest.raises(ValueError, match=r"image.train false: option 'image.label' does not apply"):
        dedup.make_pipeline("image", train=False, label="articleType")
    with pytest.raises(ValueError, match="pipeline 'phash' takes no options"):
        dedup.make_pipeline("phash", n=3)
    assert dedup.pipelines() == list(lookalike._core.dedup.pipelines()) == ["bm25", "image", "phash", "text"]
    with pytest.raises(ValueError, match="unknown pipeline 'elastic'"):
        runner.run(str(ROOT / "experiments" / "dedup_amazon_google.yaml"), ["pipelines=[elastic]", "data.limit=50"],
                   out=str(tmp_path / "o"))


@needs_xapian
@pytest.mark.skipif(not (SHARED / "shopee-dev").exists(), reason="shopee-dev missing")
def test_recall_study_class_from_dict(tmp_path):
    from lookalike.studies import RecallStudy

    cfg = {"study": "dedup_recall", "name": "mini", "data": {"set": "shopee_dev"}, "pipelines": ["bm25"],
           "ns": [1, 5], "queries": 50, "clustering": {"enabled": False}, "bm25": {"language": "none"}}
    m = RecallStudy(cfg, ["seed=3"]).run(tmp_path)
    assert m["seed"] == 3 and m["split"]["queries"] == 50 and m["config_file"] is None
    assert set(m["ground_truth"]["pair_recall"]) == {"bm25", "union"}
    assert m["ground_truth"]["pair_recall"]["union"] == m["ground_truth"]["pair_recall"]["bm25"]
    # Its matcher has no embedding: BM25 score, title and hash features only.
    assert "score_bm25" in m["matcher"]["features"] and "cos_text" not in m["matcher"]["features"]
    listed = lookalike.data.listings(SHARED / "shopee-dev" / "dev.csv", id_col="posting_id", group_col="label_group")
    assert len(listed) == 1499


@needs_xapian
@needs_faiss
@pytest.mark.skipif(not (SHARED / "shopee-dev").exists(), reason="shopee-dev missing")
def test_study_on_your_own_jsonl_file(tmp_path):
    # A researcher's own file: JSON Lines with other column names, a bad row, a hash column.
    import csv

    with open(SHARED / "shopee-dev" / "dev.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))[:400]
    lines = [json.dumps({"sku": r["posting_id"], "name": r["title"], "cluster": r["label_group"], "hash": r["image_phash"]})
             for r in rows]
    lines.append(json.dumps({"sku": "empty-one", "name": "  ", "cluster": "x", "hash": "0" * 16}))
    f = write(tmp_path / "mine.jsonl", "\n".join(lines) + "\n")
    sets = ["data.set=listings", f"data.path={f}", "data.id_col=sku", "data.title_col=name", "data.group_col=cluster",
            "data.phash_col=hash", "pipelines=[bm25,text,phash]", "ns=[1,5,10]", "text.epochs=1", "text.dim=64",
            "bm25.language=none"]
    m = runner.run(str(ROOT / "experiments" / "dedup_shopee.yaml"), sets, out=str(tmp_path / "out"))
    assert m["data"]["items"] == 400 and m["data"]["skipped"] == {"empty title": 1}
    _check_report(m, tmp_path / "out", ["bm25", "text", "phash"])


@needs_xapian
@needs_faiss
@pytest.mark.skipif(not (SHARED / "shopee-dev").exists(), reason="shopee-dev missing")
def test_matcher_from_a_study_judges_listings_without_ground_truth(tmp_path):
    # The seed's situation: no groups. A matcher trained where ground truth exists (first run)
    # judges the candidates of a catalogue without it (second run).
    first = runner.run(str(ROOT / "experiments" / "dedup_shopee.yaml"),
                       ["ns=[1,5,10]", "text.epochs=0", "text.dim=64", "queries=100"], out=str(tmp_path / "a"))
    saved = dedup.Matcher.load(tmp_path / "a" / "matcher.json")
    assert saved.feature_names == first["matcher"]["features"] and saved.threshold == first["matcher"]["threshold"]
    import csv

    with open(SHARED / "shopee-dev" / "dev.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    f = write(tmp_path / "nogroups.csv", "id,title,hash\n" + "".join(
        f'{r["posting_id"]},"{r["title"].replace(chr(34), "")}",{r["image_phash"]}\n' for r in rows))
    base = ["data.set=listings", f"data.path={f}", "data.phash_col=hash", "ns=[1,5,10]", "text.epochs=0",
            "text.dim=64", "queries=200"]
    with pytest.raises(ValueError, match="no duplicate groups"):
        runner.run(str(ROOT / "experiments" / "dedup_shopee.yaml"), base, out=str(tmp_path / "b"))
    m = runner.run(str(ROOT / "experiments" / "dedup_shopee.yaml"), base + [f"matcher.from={tmp_path / 'a' / 'matcher.json'}"],
                   out=str(tmp_path / "b"))
    assert m["ground_truth_available"] is False and "ground_truth" not in m and m["split"]["queries"] == 200
    found = m["by_matcher"]["found"]
    assert found["union"]["10"] >= max(found[p]["10"] for p in ("bm25", "text", "phash")) > 0
    assert found["bm25"]["1"] <= found["bm25"]["5"] <= found["bm25"]["10"]
    assert "no ground truth" in (tmp_path / "b" / "report.md").read_text()
    # A matcher trained on other features is refused, naming both lists.
    no_text = {k: v for k, v in config.load_yaml(str(ROOT / "experiments" / "dedup_shopee.yaml")).items() if k != "text"}
    with pytest.raises(ValueError, match="was trained on features"):
        runner.run(no_text, [b for b in base if not b.startswith("text.")] +
                   ["pipelines=[bm25,phash]", f"matcher.from={tmp_path / 'a' / 'matcher.json'}"], out=str(tmp_path / "c"))
    # The text section would be ignored without the text pipeline: an error naming it.
    with pytest.raises(ValueError, match="'text' = .* does not apply here: .*'text' is among the pipelines"):
        runner.run(str(ROOT / "experiments" / "dedup_shopee.yaml"), base + ["pipelines=[bm25,phash]"],
                   out=str(tmp_path / "c"))
    with pytest.raises(OSError, match="not a lookalike matcher"):
        dedup.Matcher.load(write(tmp_path / "bad.json", "{}"))
