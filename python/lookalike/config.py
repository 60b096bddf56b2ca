"""Experiment configs: YAML files of the options a study takes, checked against the study's
defaults (an unknown key is an error, never ignored), with ``--set a.b=value`` overrides."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Mapping, Sequence, Tuple

import yaml


class ConfigError(ValueError):
    """A config names an unknown key, has a value of the wrong type, or cannot be read."""


def load_yaml(path: str) -> Dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file '{path}' does not exist")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ConfigError(f"config file '{path}' is not valid YAML: {e}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"config file '{path}' is not UTF-8 text: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file '{path}' must hold a mapping at the top level")
    return data


def apply_sets(cfg: Dict[str, Any], sets: Iterable[str]) -> Dict[str, Any]:
    """Applies ``key.sub=value`` overrides (values parsed as YAML: ``3``, ``[1, 10]``, ``null``)."""
    cfg = copy.deepcopy(cfg)
    for item in sets:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected key=value")
        key, raw = item.split("=", 1)
        parts = key.strip().split(".")
        node = cfg
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {item!r}: '{part}' is not a section")
        try:
            node[parts[-1]] = yaml.safe_load(raw)
        except yaml.YAMLError as e:
            raise ConfigError(f"--set {item!r}: the value is not valid YAML: {e}") from None
    return cfg


def merge(defaults: Mapping[str, Any], cfg: Mapping[str, Any], where: str = "") -> Dict[str, Any]:
    """``defaults`` updated by ``cfg``; keys absent from ``defaults`` are errors naming their path.

    A default of None accepts any value; otherwise ints accept ints, floats accept numbers,
    lists accept lists, sections (dicts) recurse.
    """
    out = copy.deepcopy(dict(defaults))
    for key, value in cfg.items():
        path = f"{where}{key}"
        if key not in defaults:
            raise ConfigError(f"unknown config key '{path}'; known here: {sorted(defaults)}")
        default = defaults[key]
        if isinstance(default, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"config key '{path}' must be a section (mapping), got {value!r}")
            out[key] = merge(default, value, path + ".")
        else:
            out[key] = _check_type(path, default, value)
    return out


def _check_type(path: str, default: Any, value: Any) -> Any:
    if default is None or value is None:
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"config key '{path}' must be true/false, got {value!r}")
    elif isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"config key '{path}' must be an integer, got {value!r}")
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"config key '{path}' must be a number, got {value!r}")
        value = float(value)
    elif isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(f"config key '{path}' must be a string, got {value!r}")
    elif isinstance(default, (list, tuple)):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"config key '{path}' must be a list, got {value!r}")
        value = list(value)
    return value


def _get(cfg: Mapping[str, Any], path: str) -> Any:
    node: Any = cfg
    for part in path.split("."):
        node = node[part]
    return node


def check_applies(cfg: Mapping[str, Any], defaults: Mapping[str, Any],
                  rules: Iterable[Tuple[Sequence[str], Callable[[Mapping[str, Any]], bool], str]]) -> None:
    """Options that the chosen variant ignores are errors, not silently dropped: for each rule
    (option paths, applies(cfg), when it applies), an option that does not apply must keep its
    default. ``--set data.path=x.csv`` with ``data.set: shopee_dev`` is such an error."""
    for paths, applies, when in rules:
        if applies(cfg):
            continue
        for path in paths:
            if _get(cfg, path) != _get(defaults, path):
                raise ConfigError(f"config key '{path}' = {_get(cfg, path)!r} does not apply here: it is used only "
                                  f"when {when}")
