"""``report.html``: one self-contained page per study run, for a person to open: what ran (study,
config file and overrides, seed, versions, timings), the study's report (``report.md`` as HTML,
tables included), every figure it wrote embedded (plots and the galleries of matched pairs,
retrieved images, tagged photos), and the list of files. No external resource: images are data
URIs, the style is inline; a small inline script marks on <body> how many images decoded
(``data-images-loaded="n/m"``), which the headless-browser test reads."""
from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any, Dict, List

from . import _core

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
th { background: #f3f3f3; }
code, pre { background: #f6f6f6; }
pre { padding: 0.6em; overflow-x: auto; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.85em; color: #555; }
.meta td:first-child { font-weight: 600; }
"""

_SCRIPT = """
window.addEventListener('load', function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++;
  document.body.setAttribute('data-images-loaded', ok + '/' + imgs.length);
});
"""


def _markdown(text: str) -> str:
    import markdown

    return markdown.markdown(text, extensions=["tables", "fenced_code", "sane_lists"])


def _meta(payload: Dict[str, Any]) -> str:
    v = payload.get("versions", {})
    rows = [("study", payload.get("study")), ("name", payload.get("name")), ("seed", payload.get("seed")),
            ("config file", payload.get("config_file") or "(a dict)"),
            ("overrides", " ".join(payload.get("overrides") or []) or "none"),
            ("started", payload.get("started")),
            ("total time", f"{payload.get('timings', {}).get('total_s', float('nan')):.1f} s"),
            ("lookalike", f"{v.get('version')} (torch {v.get('torch')}, FAISS {v.get('faiss')}, OpenCV {v.get('opencv')}, "
                          f"threads {v.get('threads')})")]
    cells = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(x))}</td></tr>" for k, x in rows)
    return f'<table class="meta">{cells}</table>'


def _figures(folder: Path, names: List[str]) -> str:
    parts = []
    for name in names:
        data = base64.b64encode((folder / name).read_bytes()).decode("ascii")
        parts.append(f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{data}">'
                     f"<figcaption>{html.escape(name)}</figcaption></figure>")
    return "\n".join(parts)


def render(folder: Path, payload: Dict[str, Any]) -> str:
    """The page for a run whose files are in ``folder`` (payload: its metrics.json content)."""
    folder = Path(folder)
    artifacts = list(dict.fromkeys(payload.get("artifacts", []) + ["report.html"]))
    figures = [a for a in artifacts if a.lower().endswith(".png") and (folder / a).is_file()]
    report = folder / "report.md"
    if report.is_file():
        body = _markdown(report.read_text(encoding="utf-8"))
    else:  # a study without a written report: its metrics, as JSON
        body = "<h2>Metrics</h2><pre>" + html.escape(json.dumps(payload.get("metrics", {}), indent=2)) + "</pre>"
    files = "".join(f"<li><code>{html.escape(a)}</code></li>" for a in artifacts)
    title = html.escape(f"lookalike {payload.get('study')}: {payload.get('name')}")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{_STYLE}</style><script>{_SCRIPT}</script></head><body>\n<h1>{title}</h1>\n{_meta(payload)}\n"
            f'<section class="report">{body}</section>\n<h2>Figures</h2>\n{_figures(folder, figures) or "<p>none</p>"}\n'
            f"<h2>Files</h2><ul>{files}</ul>\n</body></html>\n")


def write(folder: Path, payload: Dict[str, Any]) -> Path:
    """Writes ``folder/report.html`` atomically; returns its path."""
    path = Path(folder) / "report.html"
    _core.write_file_atomic(str(path), render(folder, payload).encode("utf-8"))
    return path
