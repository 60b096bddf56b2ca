"""The regression gate: checked-in expected metrics and speed ratios (``expected``), the check
that re-runs them (``check``), its history (``history``) and timings compared across commits
(``compare``)."""
from . import check, expected, history

__all__ = ["check", "expected", "history"]
