"""Command line: ``lookalike run CONFIG [--set key=value ...] [--out DIR]`` and ``lookalike info``."""
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
    sub.add_parser("info", help="print what this build links")
    args = parser.parse_args(argv)

    from . import build_info, runner
    from .config import ConfigError

    if args.command == "info":
        print(json.dumps(build_info(), indent=2))
        return 0
    try:
        if args.show_config:
            print(json.dumps(runner.resolve(args.config, args.set), indent=2))
            return 0
        payload = runner.run(args.config, args.set, args.out)
    except (ConfigError, ValueError, OSError) as e:
        print(f"lookalike: error: {e}", file=sys.stderr)
        return 2
    out = args.out or f"results/{payload['name']}"
    print(json.dumps(payload.get("metrics", {}), indent=2))
    print(f"wrote {out}/metrics.json ({payload['timings']['total_s']:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
