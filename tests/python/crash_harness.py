"""Kill-test harness: ``python crash_harness.py WRITER KILLS DIR SEED`` forks a writer that saves
one kind of file over and over (each save a new generation whose content is determined by its
number), SIGKILLs it at a random moment, and forks a reader that loads the file and checks that it
is one complete generation. KILLS times; prints a JSON summary. Forking (after importing, before
any computation) makes each round cheap; readers and writers run in forked children only, so the
parent never starts a thread pool that a fork would break.

Writers: index (VectorIndex.save), update_log (UpdateLog.save), results (a study Output folder:
metrics JSON, a figure, a text report), checkpoint (the Trainer's checkpoint; the reader resumes
from it to the end and compares the weights with an uninterrupted run's).
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
import lookalike  # noqa: E402
from lookalike import index as lindex  # noqa: E402

D = 8


def vectors(gen: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(gen)
    return torch.nn.functional.normalize(torch.randn(50 + gen, D, generator=g), dim=1)


# -- writers: loop forever, one generation per save -------------------------------------------
def write_index(d: Path) -> None:
    for gen in range(10**9):
        ix = lindex.Index(D, "Flat")
        ix.add(vectors(gen), torch.arange(50 + gen))
        ix.save(d / "index.bin")


def write_update_log(d: Path) -> None:
    for gen in range(10**9):
        log = lindex.UpdateLog().add(vectors(gen), torch.arange(50 + gen)).remove(torch.arange(gen // 2))
        log.save(d / "updates.log")


def write_results(d: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lookalike.studies import Output

    out = Output(d / "run")
    for gen in range(10**9):
        out.json("metrics.json", {"gen": gen, "values": list(range(1000 + gen))})
        out.text("report.md", f"generation {gen}\n" + "x" * (5000 + gen))
        fig, ax = plt.subplots(figsize=(2, 2))
        ax.plot(range(gen % 50 + 2))
        out.figure("plot.png", fig)


def _train(d: Path, epochs: int, resume: bool):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(96, 1, 8, 8, generator=g)
    y = torch.arange(96) % 4
    return lookalike.fit(x, y, epochs=epochs, batch_size=16, backbone="convnet", channels=[4], embedding_dim=4,
                         num_classes=4, seed=0, threads=1, progress="off", augment="none",
                         checkpoint_dir=str(d), resume=resume)


EPOCHS = 150  # ~2 s on one thread with a checkpoint per epoch: kills at 0.05-1 s land mid-run


def write_checkpoint(d: Path) -> None:
    _train(d, EPOCHS, resume=True)
    os._exit(0)


def write_plain(d: Path) -> None:
    """The negative control: a file written in place (no temp file + rename), 4 MiB in chunks.
    Kills leave it truncated, and the reader must notice."""
    for gen in range(10**9):
        with open(d / "plain.txt", "w") as f:
            f.write(f"{gen}\n")
            for _ in range(64):
                f.write("x" * 65536)
                f.flush()
            f.write("\nend\n")


# -- readers: exit 0 when the file is one complete generation ---------------------------------
def read_index(d: Path) -> int:
    ix = lindex.Index.load(d / "index.bin")
    gen = len(ix) - 50
    v = vectors(gen)
    scores, ids = ix.search(v[:5], 1)
    assert ids[:, 0].tolist() == list(range(5)) and torch.allclose(scores[:, 0], torch.ones(5), atol=1e-5)
    return gen


def read_update_log(d: Path) -> int:
    log = lindex.UpdateLog.load(d / "updates.log")
    gen = log.num_added - 50
    assert log.num_removed == gen // 2, (log.num_added, log.num_removed)
    return gen


def read_results(d: Path) -> int:
    import cv2

    m = json.loads((d / "run" / "metrics.json").read_text())
    assert m["values"] == list(range(1000 + m["gen"]))
    r = (d / "run" / "report.md").read_text()
    g = int(r.split("\n", 1)[0].split()[1])
    assert len(r) == len(f"generation {g}\n") + 5000 + g
    assert cv2.imread(str(d / "run" / "plot.png")) is not None
    return m["gen"]


def read_checkpoint(d: Path) -> int:
    if not (d / "checkpoint.pt").exists():
        return -1  # killed before the first epoch ended: nothing to resume from (a fresh start)
    resumed = _train(d, EPOCHS, resume=True).model.state_dict()
    ref = torch.load(d.parent / "reference.pt")
    for k, v in ref.items():
        assert torch.equal(resumed[k], v), f"{k} differs after resume"
    return 0


def read_plain(d: Path) -> int:
    text = (d / "plain.txt").read_text()
    assert text.endswith("\nend\n") and len(text) == len(text.split("\n", 1)[0]) + 1 + 64 * 65536 + 5, "truncated"
    return int(text.split("\n", 1)[0])


WRITERS = {"plain": (write_plain, read_plain), "index": (write_index, read_index), "update_log": (write_update_log, read_update_log),
           "results": (write_results, read_results), "checkpoint": (write_checkpoint, read_checkpoint)}
# The file whose existence says the writer finished its first save (the last of a generation).
READY = {"plain": "plain.txt", "index": "index.bin", "update_log": "updates.log", "results": "run/plot.png",
         "checkpoint": "checkpoint.pt"}


def _fork(fn, *args) -> int:
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            r = fn(*args)
            if r is not None:
                (args[0] / "last_read").write_text(str(r))
        except BaseException as e:  # noqa: BLE001 - the reader's failure is the finding
            (args[0] / "last_error").write_text(f"{type(e).__name__}: {e}")
            code = 1
        os._exit(code)
    return pid


def main() -> None:
    name, kills, root, seed = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
    writer, reader = WRITERS[name]
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    d = root / name
    d.mkdir(exist_ok=True)
    if name == "checkpoint":
        ref_dir = root / "reference_run"
        pid = _fork(lambda p: torch.save(_train(p, EPOCHS, False).model.state_dict(), root / "reference.pt"), ref_dir)
        assert os.waitpid(pid, 0)[1] == 0, "the uninterrupted reference run failed"
    failures, reads = [], []
    for i in range(kills):
        shutil.rmtree(d)  # each round starts empty: its writer's own first save is waited for
        d.mkdir()
        pid = _fork(writer, d)
        # Kill at a random moment after the writer's first complete save (machine load only
        # shifts when that is, not whether the kill lands among saves).
        t0 = time.perf_counter()
        while not (d / READY[name]).exists() and time.perf_counter() - t0 < 120:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.8))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        if not (d / READY[name]).exists():
            reads.append(None)  # the first save never finished within 120 s
            continue
        (d / "last_error").unlink(missing_ok=True)
        rid = _fork(reader, d)
        status = os.waitpid(rid, 0)[1]
        if status != 0:
            failures.append({"kill": i, "error": (d / "last_error").read_text() if (d / "last_error").exists() else status})
        else:
            reads.append(int((d / "last_read").read_text()))
    print(json.dumps({"writer": name, "kills": kills, "failures": failures,
                      "reads": [r for r in reads if r is not None], "before_first_save": reads.count(None)}))


if __name__ == "__main__":
    main()
