"""Writes the seed corpus of every fuzz target (cpp/fuzz/) into tests/fuzz/corpus/<target>/:
small valid inputs written by lookalike's own writers (indexes, update logs, feature files,
models, taggers, matchers, text encoders, checkpoints) and by other tools (NumPy for IDX, OpenCV
for images, h5py for Keras files, torch.save for state_dicts), plus a few hand-made edge cases.

    .venv/bin/python tests/fuzz/make_corpus.py   (needs the built lookalike._core)

Seeded: the same content each run (torch archives still differ byte-wise between runs in
their record ids). Files whose reader checks a trailing CRC-32 are stored without it
(the fuzz target appends it: cpp/fuzz/fuzz_target.h, append_checksum)."""
from __future__ import annotations

import gzip
import json
import shutil
import struct
import sys
import tempfile
from pathlib import Path

import cv2
import h5py
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
from lookalike import dedup, index, local, tags, train  # noqa: E402

CORPUS = ROOT / "tests" / "fuzz" / "corpus"


def put(target: str, name: str, data: bytes | str) -> None:
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data.encode() if isinstance(data, str) else data)


def idx_bytes(a: np.ndarray) -> bytes:
    codes = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D,
             np.float64: 0x0E}
    header = struct.pack(">BBBB", 0, 0, codes[a.dtype.type], a.ndim) + struct.pack(f">{a.ndim}I", *a.shape)
    return header + a.astype(a.dtype.newbyteorder(">")).tobytes()


def idx_seeds() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 4, 4), dtype=np.uint8)
    put("idx", "images.idx", idx_bytes(images))
    put("idx", "labels.idx", idx_bytes(np.array([0, 9, 3], np.uint8)))
    put("idx", "images.idx.gz", gzip.compress(idx_bytes(images), mtime=0))
    put("idx", "float.idx", idx_bytes(rng.normal(size=(2, 3)).astype(np.float32)))
    put("idx", "int32.idx", idx_bytes(np.array([[1, -2], [3, 4]], np.int32)))


def csv_seeds() -> None:
    put("csv", "plain.csv", "id,title,price\n1,red shirt,9.99\n2,blue shirt,12\n")
    put("csv", "quoted.csv", 'id,title\r\n1,"a, quoted ""title"""\r\n2,"two\nlines"\r\n')
    put("csv", "bom.csv", "\ufeffid;name\n1;x\n".encode("utf-8"))
    put("csv", "ragged.csv", "a,b,c\n1,2\n3,4,5,6\n")


def image_seeds() -> None:
    rng = np.random.default_rng(1)
    bgr = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    put("image", "rgb.png", cv2.imencode(".png", bgr)[1].tobytes())
    put("image", "rgb.jpg", cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    put("image", "gray.png", cv2.imencode(".png", bgr[:, :, 0])[1].tobytes())
    put("image", "alpha.png", cv2.imencode(".png", np.dstack([bgr, bgr[:, :, :1]]))[1].tobytes())
    put("image", "deep.png", cv2.imencode(".png", bgr.astype(np.uint16) * 257)[1].tobytes())
    put("image", "rgb.bmp", cv2.imencode(".bmp", bgr)[1].tobytes())


LISTINGS = [
    {"id": "a1", "title": "Red cotton shirt", "group": "g1", "brand": "acme", "phash": "ffd8e0c0a0908070",
     "colour": "red", "price": "9.99"},
    {"id": "a2", "title": "red shirt, cotton", "group": "g1", "brand": "acme", "phash": "ffd8e0c0a0908071",
     "colour": "red", "price": "10.50"},
    {"id": "b1", "title": "Blue jeans \u00e9t\u00e9", "group": "g2", "brand": "", "phash": "0011223344556677",
     "colour": "blue", "price": ""},
]


def listing_seeds() -> None:
    cols = list(LISTINGS[0])
    lines = [",".join(cols)] + [",".join(f'"{r[c]}"' for c in cols) for r in LISTINGS]
    put("listings_csv", "listings.csv", "\n".join(lines) + "\n")
    put("listings_jsonl", "listings.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in LISTINGS))
    put("listings_jsonl", "numbers.jsonl", '{"id": 1, "title": "x", "group": 2, "phash": "00", "colour": null, '
        '"price": 3.5, "brand": ["a"]}\n\n')


def table_seeds() -> None:
    put("catalog", "styles.csv", "id,gender,articleType,baseColour,productDisplayName\n"
        "15970,Men,Shirts,Navy Blue,Turtle Check Men Navy Blue Shirt\n"
        "39386,Men,Jeans,Blue,Peter England Men Party Blue Jeans\n")
    put("tag_table", "tags.csv", "path,tags,colour,striped,title\n"
        "a.png,shirt;collar,red,1,Floral denim shirt\nb.png,jeans,,0,Blue jeans\n")
    put("image_set", "images.csv", "path,class,colour\na.png,shirt,red\nb.png,jeans,blue\n")


def options_seeds() -> None:
    put("options", "train.json", json.dumps({"epochs": 2, "lr": 0.01, "model": {"channels": [4, 8]},
                                             "filter": {"filter": "coteaching", "forget_rate": 0.2}}))
    put("options", "study.json", json.dumps({"seed": 1, "ns": [1, 10], "pipelines": ["bm25"]}))
    put("options", "index.json", json.dumps({"spec": "IVF4,Flat", "metric": "ip"}))
    put("options", "bad.json", '{"epochs": "two"}')


def without_crc(path: Path) -> bytes:
    return path.read_bytes()[:-4]


def saved_seeds(tmp: Path) -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 8, generator=g)
    for spec in ("Flat", "IVF2,Flat", "HNSW4"):
        ix = index.Index(8, spec)
        if spec.startswith("IVF"):
            ix.train(x)
        ix.add(x, torch.arange(100, 140))
        ix.remove(torch.tensor([101]))
        ix.save(tmp / "ix")
        put("index", spec.replace(",", "_") + ".index", without_crc(tmp / "ix"))
        put("blob", spec.replace(",", "_") + ".index", (tmp / "ix").read_bytes())
    log = index.UpdateLog().add(x[:3], torch.tensor([7, 8, 9])).remove(torch.tensor([8]))
    log.save(tmp / "log")
    put("update_log", "day.log", without_crc(tmp / "log"))
    put("blob", "day.log", (tmp / "log").read_bytes())

    rng = np.random.default_rng(2)
    photos = torch.from_numpy(rng.integers(0, 256, (2, 3, 48, 48), dtype=np.uint8))
    for name, kind in (("sift", "float"), ("orb", "binary")):
        feats = local.extract(photos, method=name, max_features=8)
        local.save_features(tmp / "f", feats, {"extractor": name})
        put("feature_file", f"{name}.feat", without_crc(tmp / "f"))


def network_seeds(tmp: Path) -> None:
    torch.manual_seed(0)
    net = train.network(backbone="convnet", channels=[4], in_channels=3, embedding_dim=0, num_classes=2)
    net.save(str(tmp / "m.pt"))
    put("model", "convnet.pt", (tmp / "m.pt").read_bytes())
    torch.save(net.state_dict(), tmp / "sd.pt")
    put("pretrained", "state_dict.pt", (tmp / "sd.pt").read_bytes())
    with h5py.File(tmp / "k.h5", "w") as f:
        g = f.create_group("model_weights")
        layers = [("conv2d", {"kernel": np.ones((3, 3, 3, 4))}),
                  ("batch_normalization", {"gamma": np.ones(4), "beta": np.zeros(4),
                                           "moving_mean": np.zeros(4), "moving_variance": np.ones(4)}),
                  ("dense", {"kernel": np.ones((4, 2)), "bias": np.zeros(2)})]
        g.attrs["layer_names"] = np.array([n.encode() for n, _ in layers])
        for name, weights in layers:
            lg = g.create_group(name)
            lg.attrs["weight_names"] = np.array([f"{name}/{w}:0".encode() for w in weights])
            for w, value in weights.items():
                lg.create_dataset(f"{name}/{w}:0", data=np.asarray(value, np.float32))
    put("pretrained", "keras.h5", (tmp / "k.h5").read_bytes())
    put("pretrained", "model.tflite", tflite_bytes())
    net.load_pretrained(str(CORPUS / "pretrained" / "model.tflite"))  # the seed loads whole

    images = torch.from_numpy(np.random.default_rng(3).integers(0, 256, (8, 3, 8, 8), dtype=np.uint8))
    targets = torch.tensor([[1, 0, 1], [0, 1, 0]] * 4, dtype=torch.float32)
    res = tags.fit(images, targets, ["colour:red", "colour:blue", "striped"], epochs=1, batch_size=4,
                   channels=[4], embedding_dim=0, exclusive=["colour"], progress="off")
    res.tagger.fit_thresholds(res.tagger.scores(images), targets)
    res.tagger.save(str(tmp / "t.pt"))
    put("tagger", "tagger.pt", (tmp / "t.pt").read_bytes())

    # The fuzz target's options (cpp/fuzz/checkpoint.cpp: checkpoint_options).
    gray = torch.from_numpy(np.arange(8 * 64).reshape(8, 1, 8, 8) % 251).to(torch.uint8)
    train.fit(gray, torch.arange(8) % 4, epochs=2, batch_size=4, channels=[4], embedding_dim=8,
              filter="coteaching", checkpoint_dir=str(tmp / "ck"), progress="off")
    put("checkpoint", "coteaching.pt", (tmp / "ck" / "checkpoint.pt").read_bytes())


def tflite_bytes() -> bytes:
    """A float TFLite model of the ConvNet the pretrained target loads into: CONV_2D 3 -> 4 (3 x 3)
    and FULLY_CONNECTED 4 -> 2, written with the flatbuffers builder by the schema's field slots
    (cpp/src/models/pretrained/tflite_schema.fbs)."""
    import flatbuffers
    b = flatbuffers.Builder(1024)
    rng = np.random.default_rng(4)
    arrays = [None, rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4), None, rng.normal(size=(2, 4)),
              rng.normal(size=2), None]
    shapes = [[1, 8, 8, 3], [4, 3, 3, 3], [4], [1, 8, 8, 4], [2, 4], [2], [1, 2]]

    def table(fields):  # fields: (slot, kind, value)
        b.StartObject(max(f[0] for f in fields) + 1)
        for slot, kind, value in fields:
            getattr(b, f"Prepend{kind}Slot")(slot, value, 0)
        return b.EndObject()

    def offsets(items):
        b.StartVector(4, len(items), 4)
        for o in reversed(items):
            b.PrependUOffsetTRelative(o)
        return b.EndVector()

    def ints(values):
        return b.CreateNumpyVector(np.asarray(values, np.int32))

    buffers = [table([(0, "UOffsetTRelative", b.CreateNumpyVector(
        np.frombuffer(a.astype(np.float32).tobytes(), np.uint8)))]) if a is not None else table([(0, "Uint32", 0)])
        for a in arrays]
    tensors = [table([(0, "UOffsetTRelative", ints(shape)), (1, "Int8", 0), (2, "Uint32", i),
                      (3, "UOffsetTRelative", b.CreateString(f"t{i}"))]) for i, shape in enumerate(shapes)]
    ops = [table([(0, "Uint32", 0), (1, "UOffsetTRelative", ints([0, 1, 2])), (2, "UOffsetTRelative", ints([3]))]),
           table([(0, "Uint32", 1), (1, "UOffsetTRelative", ints([3, 4, 5])), (2, "UOffsetTRelative", ints([6]))])]
    codes = [table([(0, "Int8", 3), (3, "Int32", 3)]), table([(0, "Int8", 9), (3, "Int32", 9)])]
    graph = table([(0, "UOffsetTRelative", offsets(tensors)), (1, "UOffsetTRelative", ints([0])),
                   (2, "UOffsetTRelative", ints([6])), (3, "UOffsetTRelative", offsets(ops))])
    model = table([(0, "Uint32", 3), (1, "UOffsetTRelative", offsets(codes)),
                   (2, "UOffsetTRelative", offsets([graph])), (4, "UOffsetTRelative", offsets(buffers))])
    b.Finish(model, file_identifier=b"TFL3")
    return bytes(b.Output())


def text_seeds(tmp: Path) -> None:
    texts = [r["title"] for r in LISTINGS] * 4
    groups = torch.arange(len(texts)) % 3
    enc = dedup.TextEncoder(dim=8, epochs=1, buckets=64).fit(texts, groups, torch.arange(len(texts)))
    enc.save(tmp / "te.pt")
    put("text_encoder", "encoder.pt", (tmp / "te.pt").read_bytes())
    m = dedup.matcher.Matcher().fit(torch.tensor([[0.1, 1.0], [0.9, 0.0], [0.2, 0.8], [0.8, 0.1]]),
                                    torch.tensor([0, 1, 0, 1]), ["title", "image"])
    m.save(tmp / "m.json")
    put("matcher", "matcher.json", (tmp / "m.json").read_bytes())


def main() -> None:
    if CORPUS.exists():
        shutil.rmtree(CORPUS)
    idx_seeds(), csv_seeds(), image_seeds(), listing_seeds(), table_seeds(), options_seeds()
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        saved_seeds(tmp), network_seeds(tmp), text_seeds(tmp)
    for d in sorted(CORPUS.iterdir()):
        print(f"{d.name:14s} {len(list(d.iterdir()))} files, {sum(f.stat().st_size for f in d.iterdir()):,} bytes")


if __name__ == "__main__":
    main()
