"""Property fuzzing (hypothesis) of what a user types into a study: the YAML file and its --set
values. Every input either resolves to a full config or is refused with ConfigError / ValueError
naming what is wrong; nothing else escapes (a KeyError, a YAMLError, a UnicodeDecodeError, a
TypeError from a comparison). A resolved config holds each --set value where it was set. The C++
side (option JSON into the option structs) is fuzzed by cpp/fuzz/options.cpp."""
from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from lookalike import config, runner

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted(p for p in (ROOT / "experiments").glob("*.yaml") if p.name != "expected.yaml")
EXAMPLES = 400 if os.environ.get("LOOKALIKE_FULL") else 60
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def leaf_keys(node, prefix=""):
    """Dotted paths of a resolved config's values ("train.epochs", "data.set", ...)."""
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from leaf_keys(value, path + ".")
        else:
            yield path


KEYS = sorted({k for p in CONFIGS for k in leaf_keys(runner.resolve(str(p)))})
# YAML value text: what a person might type after '=' (numbers, lists, words, nulls, broken YAML).
SCALARS = st.one_of(st.integers(-10**12, 10**12).map(str), st.floats(allow_nan=True).map(repr),
                    st.sampled_from(["true", "no", "null", "~", "[]", "{}", "[1, 10]", "[a, 2.5]",
                                     "cuda", "''", "x: 1", "[", "{a", "\"unterminated", "!!python/none",
                                     "&a [*a]", "1e400", "- a\n- b", "\t"]),
                    st.text(max_size=12))
SET_ITEMS = st.one_of(st.tuples(st.sampled_from(KEYS), SCALARS).map(lambda kv: f"{kv[0]}={kv[1]}"),
                      st.tuples(st.sampled_from(KEYS + ["", ".", "a..b", "train.epochs.x", "study"]),
                                st.text(max_size=8)).map(lambda kv: f"{kv[0]}={kv[1]}"),
                      st.text(max_size=16))


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


@SETTINGS
@given(path=st.sampled_from(CONFIGS), sets=st.lists(SET_ITEMS, max_size=3))
def test_set_values_resolve_or_are_refused_by_name(path, sets):
    try:
        cfg = runner.resolve(str(path), sets)
    except (config.ConfigError, ValueError) as e:
        assert str(e), "an empty error message"
        return
    # Resolved: the last --set of each key is what the config holds.
    final = {}
    for item in sets:
        key, raw = item.split("=", 1)
        final[key.strip()] = yaml.safe_load(raw)
    for key, value in final.items():
        node = cfg
        for part in key.split("."):
            node = node[part]
        assert same(node, value), (key, node, value)


@SETTINGS
@given(data=st.one_of(st.binary(max_size=300),
                      st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
                      st.sampled_from([p.read_bytes() for p in CONFIGS]).flatmap(
                          lambda b: st.integers(0, len(b)).map(lambda n: b[:n]))))
def test_yaml_files_resolve_or_are_refused_naming_the_file(tmp_path, data):
    path = tmp_path / "config.yaml"
    path.write_bytes(data)
    try:
        runner.resolve(str(path))
    except (config.ConfigError, ValueError) as e:
        if isinstance(e, config.ConfigError) and "config file" in str(e):
            assert str(path) in str(e)
        assert str(e)


def test_refusals_the_fuzzer_found_stay_refusals(tmp_path):
    """Inputs that once escaped as other exceptions (kept as regressions)."""
    base = str(CONFIGS[0])
    for sets in (["train.epochs=["], ["name={a"], ["x=\"unterminated"]):
        with pytest.raises(config.ConfigError, match="--set"):
            runner.resolve(base, sets)
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("study: fmnist_baseline\nname: caf\xe9\n".encode("latin-1"))
    with pytest.raises(config.ConfigError, match="latin1.yaml"):
        runner.resolve(str(bad))
