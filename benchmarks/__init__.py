"""Benchmarks: measured figures with their goals, run by ``python -m benchmarks`` (``make bench``).

Not part of the test suite and never pass or fail: each benchmark returns ``Figure``s, the
runner prints them as they come and a summary table at the end. See ``benchmarks/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median


@dataclass(frozen=True)
class Goal:
    """What a figure should reach: ``at_least`` or ``below`` a value, for the sizes it is set for."""

    text: str  # as printed, e.g. "≥ 20,000 msg/s at 100k"
    at_least: float | None = None
    below: float | None = None
    applies: bool = True  # False: shown for reference at sizes the goal is not set for

    def met(self, value: float) -> bool | None:
        if not self.applies:
            return None
        if self.at_least is not None:
            return value >= self.at_least
        if self.below is not None:
            return value < self.below
        return None


@dataclass(frozen=True)
class Figure:
    """One measured number: the median of ``samples``, in ``unit``."""

    name: str
    size: str
    unit: str
    samples: tuple[float, ...]
    goal: Goal | None = None
    note: str = ""
    digits: int = field(default=0)

    @property
    def value(self) -> float:
        return median(self.samples)

    def formatted(self, value: float | None = None) -> str:
        return f"{self.value if value is None else value:,.{self.digits}f}"
