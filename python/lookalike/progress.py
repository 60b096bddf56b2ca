"""Progress of long steps driven from Python (index builds in chunks, sweeps, study stages): a bar
with ETA redrawn on a terminal, a line per tenth with elapsed time and ETA in a log. C++ loops
report their own (the Trainer's ``progress`` option)."""
from __future__ import annotations

import sys
import time
from typing import Optional, TextIO


def duration(s: float) -> str:
    """12.3 s, 4 min 05 s, 1 h 02 min."""
    if s < 120:
        return f"{s:.1f} s"
    if s < 7200:
        return f"{int(s // 60)} min {int(s % 60):02d} s"
    return f"{int(s // 3600)} h {int(s % 3600 // 60):02d} min"


class Progress:
    """``with Progress(total, "HNSW32: add") as p: ... p.update(done)``. ``mode``: "auto" (a bar
    when the stream is a terminal, else lines), "bar", "lines" or "off"."""

    def __init__(self, total: int, label: str, mode: str = "auto", stream: Optional[TextIO] = None) -> None:
        if mode not in ("auto", "bar", "lines", "off"):
            raise ValueError(f"progress mode must be auto, bar, lines or off, got {mode!r}")
        self.stream = stream or sys.stderr
        tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.mode = ("bar" if tty else "lines") if mode == "auto" else mode
        self.total, self.label = max(int(total), 1), label
        self.t0 = time.perf_counter()
        self.last_draw = 0.0
        self.next_line = 0.1  # lines mode: one per tenth

    def __enter__(self) -> "Progress":
        if self.mode == "lines":
            print(f"[{self.label}] started ({self.total} to do)", file=self.stream, flush=True)
        return self

    def update(self, done: int) -> None:
        frac = min(max(done / self.total, 0.0), 1.0)
        elapsed = time.perf_counter() - self.t0
        eta = elapsed / frac * (1 - frac) if frac > 0 else float("nan")
        eta_s = duration(eta) if frac > 0 else "?"
        if self.mode == "bar":
            now = time.perf_counter()
            if frac < 1 and now - self.last_draw < 0.2:
                return
            self.last_draw = now
            bar = "#" * int(20 * frac) + "." * (20 - int(20 * frac))
            print(f"\r[{self.label}] [{bar}] {done}/{self.total}  {duration(elapsed)}  ETA {eta_s}   ",
                  end="", file=self.stream, flush=True)
        elif self.mode == "lines" and (frac >= self.next_line or frac >= 1):
            while self.next_line <= frac:
                self.next_line += 0.1
            print(f"[{self.label}] {done}/{self.total} ({frac:.0%}) in {duration(elapsed)}, ETA {eta_s}",
                  file=self.stream, flush=True)

    def __exit__(self, *exc) -> None:
        elapsed = time.perf_counter() - self.t0
        if self.mode == "bar":
            print(file=self.stream, flush=True)
        if self.mode != "off":
            state = "failed" if exc[0] else "done"
            print(f"[{self.label}] {state} in {duration(elapsed)}", file=self.stream, flush=True)
