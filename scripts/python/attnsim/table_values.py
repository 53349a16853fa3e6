"""Cell values of result tables (DSE results.csv, validation.csv) as numbers and as sort keys,
shared by the PNG plots (attnsim.dse.plots) and the HTML report (attnsim.html_report)."""
from __future__ import annotations

import math


def numeric(value) -> float | None:
    """The value as a finite float, else None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def sort_key(value):
    """Numbers by value, then "AxBxC" shapes by their product, then text."""
    number = numeric(value)
    if number is not None:
        return (0, number, "")
    text = str(value)
    if "x" in text and all(part.isdigit() for part in text.split("x")):
        return (0, math.prod(int(p) for p in text.split("x")), text)
    return (1, 0, text)
