"""Command line: ``lookalike run CONFIG [--set key=value ...] [--out DIR]``, ``lookalike check
EXPECTED.yaml [--quick]`` (the regression gate), ``lookalike history`` and ``lookalike info``."""
from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="lookalike", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="run a study from its YAML config")
    p_run.add_argument("config")
    p_run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a config value, e.g. --set train.epochs=1 (repeatable)")
    p_run.add_argument("--out", default=None, help="output folder (default: results/<name>)")
    p_run.add_argument("--show-config", action="store_true", help="print the resolved config and exit")
    p_run.add_argument("--nproc", type=int, default=1,
                       help="run as N processes on this machine (data-parallel training; torchrun's environment)")
    sub.add_parser("info", help="print what this build links")
    p_check = sub.add_parser("check", help="re-run the expected metrics and speed ratios; fail outside a band")
    p_check.add_argument("expected", help="expectations file, e.g. experiments/expected.yaml")
    p_check.add_argument("--quick", action="store_true", help="only the entries marked quick (the CI form)")
    p_check.add_argument("--only", nargs="+", default=[], metavar="NAME", help="only these entries")
    p_check.add_argument("--out", default="results/check", help="where runs and check.json go")
    p_check.add_argument("--history", default="results/history.jsonl", help="history file to append to ('' for none)")
    p_check.add_argument("--calibrate", action="store_true",
                         help="run the study entries at --seeds and print each metric's spread and band")
    p_check.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    p_cmp = sub.add_parser("bench-compare", help="speed entries on a base commit vs this tree (U test)")
    p_cmp.add_argument("expected")
    p_cmp.add_argument("--base", required=True, help="commit to compare against (built in a worktree)")
    p_cmp.add_argument("--reps", type=int, default=5)
    p_cmp.add_argument("--only", nargs="+", default=[], metavar="NAME")
    p_cmp.add_argument("--out", default="results/check/bench_compare.json")
    p_hist = sub.add_parser("history", help="the gate's metrics against commit")
    p_hist.add_argument("--file", default="results/history.jsonl")
    p_hist.add_argument("--metric", default="", help="only metrics whose entry/path contains this")
    p_hist.add_argument("--plot", default=None, metavar="PNG", help="also plot them, one panel per metric")
    args = parser.parse_args(argv)

    from . import build_info, runner
    from .config import ConfigError

    if args.command == "info":
        print(json.dumps(build_info(), indent=2))
        return 0
    if args.command in ("check", "history", "bench-compare"):
        return _gate(args)
    if args.nproc != 1:
        from . import dist

        if args.nproc < 1:
            print(f"lookalike: error: --nproc must be >= 1, got {args.nproc}", file=sys.stderr)
            return 2
        rest = list(sys.argv[1:] if argv is None else argv)
        i = next(i for i, a in enumerate(rest) if a == "--nproc" or a.startswith("--nproc="))
        del rest[i:i + (1 if "=" in rest[i] else 2)]
        return dist.launch(rest, args.nproc)
    try:
        if args.show_config:
            print(json.dumps(runner.resolve(args.config, args.set), indent=2))
            return 0
        payload = runner.run(args.config, args.set, args.out)
    except (ConfigError, ValueError, OSError) as e:
        print(f"lookalike: error: {e}", file=sys.stderr)
        return 2
    if payload.get("rank", 0) != 0:
        return 0  # rank 0 writes and reports
    out = args.out or f"results/{payload['name']}"
    print(json.dumps(payload.get("metrics", {}), indent=2))
    print(f"wrote {out}/metrics.json ({payload['timings']['total_s']:.1f} s)")
    return 0


def _gate(args: argparse.Namespace) -> int:
    from .config import ConfigError
    from .gate import check, history

    try:
        if args.command == "bench-compare":
            from .gate import compare

            rows = compare.run_compare(args.expected, args.base, args.reps, args.only, args.out)
            print(compare.table(rows))
            print(f"wrote {args.out}")
            return 0
        if args.command == "history":
            runs = history.load(args.file)
            if not runs:
                print(f"lookalike: no runs in {args.file} yet (lookalike check appends one per run)", file=sys.stderr)
                return 1
            print(history.text(runs, args.metric))
            if args.plot:
                history.plot(runs, args.plot, args.metric)
                print(f"wrote {args.plot}")
            return 0
        if args.calibrate:
            found = check.calibrate(args.expected, args.seeds, args.only, out=f"{args.out}/calibration")
            for entry, metrics in found.items():
                print(f"{entry}:")
                for path, rec in metrics.items():
                    if "band" not in rec:
                        print(f"  {path}: not a number at some seed: {rec['values']}")
                        continue
                    print(f"  {path}: {{band: [{rec['band'][0]:.4g}, {rec['band'][1]:.4g}], seeds: {{n: {rec['n']}, "
                          f"mean: {rec['mean']:.4g}, sd: {rec['sd']:.3g}, min: {rec['min']:.4g}, max: {rec['max']:.4g}}}}}")
            return 0
        report = check.run_check(args.expected, args.quick, args.only, args.out, args.history or None)
    except (ConfigError, ValueError, OSError) as e:
        print(f"lookalike: error: {e}", file=sys.stderr)
        return 2
    from .gate.check import Row

    print(check.table([Row(**r) for r in report["rows"]]))
    print(f"wrote {args.out}/check.json ({report['total_s']:.1f} s)")
    return 1 if report["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
