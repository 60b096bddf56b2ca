"""The duplicate recall study's plots and report.md (text and figures only; the numbers come
from the study)."""
from __future__ import annotations

from typing import Any, Dict, List

from .. import plot
from .base import Output


def plots_and_report(cfg, report, items, names, panels, gallery, out: Output) -> None:
    """The figures and report.md of a finished run."""
    truth = report["ground_truth_available"]
    view = report["ground_truth"] if truth else report["by_matcher"]
    what = "true positives" if truth else "pairs the matcher accepts"
    at = view["overlap_at_n"]
    figs = {"recall_at_n.png": plot.recall_at_n(view["pair_recall"], f"{cfg['name']}: pair recall@n (ground truth)")
            if truth else
            plot.recall_at_n(view["found"], f"{cfg['name']}: pairs the matcher accepts", ylabel="matched pairs")}
    share = [[view["overlap_share"][a][b] or 0.0 for b in names] for a in names]
    figs["overlap.png"] = plot.overlap_matrix(names, share, f"share of row's {what} also found (n={at})")
    figs["venn.png"] = plot.venn(names, view["venn"], f"{what} at n={at}")
    if panels:
        figs["only_scores.png"] = plot.score_histograms(panels, f"scores of {what} one pipeline alone finds")
    if items.images is not None and gallery:
        pairs, caps = [], []
        for name, ex in gallery.items():
            for e in ex[:3]:
                pairs.append(tuple(e["rows"]))
                caps.append(f"only {name}: {e['query_title'][:38]} | {e['match_title'][:38]}")
        figs["gallery.png"] = plot.image_pairs(items.images, pairs, caps, f"{what} one pipeline alone finds")
    for fname, fig in figs.items():
        out.figure(fname, fig)
    out.text("report.md", _report_text(cfg, report, names, list(figs)))


def _fmt(v: Any) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def _table(rows: Dict[str, Dict[str, Any]], ns: List[str], fmt=_fmt) -> List[str]:
    out = ["| pipeline | " + " | ".join(f"@{n}" for n in ns) + " |", "|---|" + "---|" * len(ns)]
    return out + [f"| {k} | " + " | ".join(fmt(v[n]) for n in ns) + " |" for k, v in rows.items()]


def _comparison(view: Dict[str, Any], names: List[str], baseline: str, key: str, what: str) -> List[str]:
    ns = list(view[key][names[0]])
    lines = _table(view[key], ns)
    gain = view.get("gain_over_" + baseline)
    if gain:
        unit = "recall points" if key == "pair_recall" else "pairs"
        lines += ["", f"Gain over {baseline} ({unit}):", ""] + _table(
            gain, ns, lambda v: f"{v:+.3f}" if isinstance(v, float) else f"{v:+d}")
    lines += ["", f"Overlap at n={view['overlap_at_n']} (share of the row's {what} also found by the column):", "",
              "| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    lines += [f"| {a} | " + " | ".join(_fmt(view["overlap_share"][a][b]) for b in names) + " |" for a in names]
    return lines + ["", "Found by exactly: " + ", ".join(f"{k}: {v}" for k, v in view["venn"].items())]


def _report_text(cfg, report, names, figures) -> str:
    truth = report["ground_truth_available"]
    d, sp = report["data"], report["split"]
    lines = [f"# Duplicate recall study: {cfg['name']}", "",
             f"Data: {d['source']} — {d['items']} listings" +
             (f", {d.get('groups')} groups ({d.get('groups_with_duplicates')} with duplicates)" if truth else
              ", **no ground truth**: the matcher judges the candidates") +
             (" — **groups are SIMULATED re-listings**" if d["simulated_groups"] else ""),
             f"Skipped rows: {d['skipped'] or 'none'}; repaired non-UTF-8 cells: {d['repaired_utf8_cells']}."]
    if truth:
        lines += [f"Split by group: {sp['train_items']} train ({sp['encoder_items']} fit the encoders, "
                  f"{sp['calibration_items']} calibrate matcher and thresholds) / {sp['test_items']} test listings; "
                  f"{sp['queries']} queries, {sp['true_pairs']} true pairs to find. Seed {cfg['seed']}.",
                  "", "## Pair recall@n (ground truth: true pairs found in the top n / all true pairs of the queries)",
                  ""]
        lines += _comparison(report["ground_truth"], names, cfg["baseline"], "pair_recall", "true positives")
    else:
        lines += [f"{sp['queries']} queries. Seed {cfg['seed']}."]
    if "matcher" in report:
        m = report["matcher"]
        lines += ["", "## Matcher", ""]
        if "loaded_from" in m:
            lines.append(f"Loaded from `{m['loaded_from']}`, threshold {m['threshold']:.3f}.")
        else:
            lines.append(f"Logistic regression on {m['train_pairs']} calibration candidate pairs ({m['train_positives']} "
                         f"matches), threshold {m['threshold']:.3f} (best F1 on those pairs); saved to matcher.json.")
        if "f1" in m:
            lines.append(f"On the test candidates: precision {m['precision']:.3f}, recall {m['recall_of_candidates']:.3f}, "
                         f"F1 {m['f1']:.3f}.")
        lines += ["", "Pairs the matcher accepts, per pipeline and n:", ""]
        lines += _comparison(report["by_matcher"], names, cfg["baseline"], "found", "accepted pairs")
    if "clustering" in report:
        c = report["clustering"]
        lines += ["", "## Threshold clustering", ""]
        if truth:
            lines += [f"Embedding `{c['embedding']}`; threshold {c['chosen_threshold']} chosen by calibration-item mean F1; "
                      f"test mean F1 **{c['test_mean_f1']:.3f}** (every listing alone scores {c['singletons_test_mean_f1']:.3f}), "
                      f"reduction ratio {c['reduction_ratio']:.2f} (true {c['true_reduction_ratio']:.2f}).", "",
                      "| threshold | clusters | reduction | calibration F1 | test F1 | test pair P | test pair R |",
                      "|---|---|---|---|---|---|---|"]
            for s in c["sweep"]:
                cal = _fmt(s["calibration"]["mean_f1"]) if s["calibration"] else "–"
                lines.append(f"| {s['threshold']} | {s['clusters']} | {s['reduction_ratio']:.2f} | {cal} | "
                             f"{s['test']['mean_f1']:.3f} | {s['test']['pair_precision']:.3f} | {s['test']['pair_recall']:.3f} |")
        else:
            lines += [f"Embedding `{c['embedding']}` (no ground truth: sizes only).", "", "| threshold | clusters | reduction |",
                      "|---|---|---|"] + [f"| {s['threshold']} | {s['clusters']} | {s['reduction_ratio']:.2f} |" for s in c["sweep"]]
    if "matcher_clustering" in report:
        mc = report["matcher_clustering"]
        lines += ["", f"Clustering by the matcher (components of the accepted pairs among every listing's top "
                      f"{mc['candidates_per_pipeline']} per pipeline): {mc['clusters']} clusters, reduction ratio "
                      f"{mc['reduction_ratio']:.2f}" + (f"; test mean F1 **{mc['test']['mean_f1']:.3f}**, pair precision "
                      f"{mc['test']['pair_precision']:.3f}, pair recall {mc['test']['pair_recall']:.3f}." if "test" in mc else ".")]
    if report["gallery"]:
        lines += ["", "## Pairs one pipeline alone finds (examples)", ""]
        for name, ex in report["gallery"].items():
            lines.append(f"**only {name}** ({report['only_found_by'][name]} pairs):")
            lines += [f"- `{e['query_title'][:90]}` ↔ `{e['match_title'][:90]}`" for e in ex]
            lines.append("")
    lines += [""] + [f"![{f}]({f})" for f in figures] + [""]
    return "\n".join(lines)
