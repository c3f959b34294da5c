"""How the annual report prints a figure, and when a printed figure agrees with a value.

The report rounds and qualifies: `10余次` (a little over 10), `7.2万余张` (over 72,000),
`约0.7万元` (about 7,000), `约8万余人次` (about, a little over 80,000), `1.365万元` (exact).
`render` turns a value into that form under an indicator's rule; `agrees` is the agreement
table of indicators.md. Every rendering agrees with the value it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

WAN = Decimal(10000)
QUALIFIERS = ("", "余", "约", "约余")
_QUALIFIER_SPELLINGS = {
    None: "", "": "", "exact": "",
    "余": "余", "约": "约",
    "约余": "约余", "约…余": "约余", "约...余": "约余",
}  # fmt: skip
_PRINTED = re.compile(r"^\s*(约)?\s*([0-9]+(?:\.[0-9]+)?)\s*(万)?\s*(余)?")


@dataclass(frozen=True)
class Rendering:
    """One indicator's printing rule: qualifier, whether in 万, and the rounding step."""

    qualifier: str = ""  # "" exact | "余" floored | "约" rounded | "约余" rounded, "over"
    wan: bool = False  # print in units of 万 (10,000)
    step: Decimal = Decimal(1)  # a power of ten, in the value's own unit

    def __post_init__(self) -> None:
        object.__setattr__(self, "qualifier", normalise_qualifier(self.qualifier))
        step = to_decimal(self.step)
        if step <= 0 or step.normalize().as_tuple().digits != (1,):
            raise ValueError(f"step must be a power of ten, not {self.step}")
        object.__setattr__(self, "step", step)


def to_decimal(value: object) -> Decimal:
    """Return a number (int, float, Decimal or numeric text) as an exact Decimal."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value).strip())


def normalise_qualifier(qualifier: str | None) -> str:
    """Return the canonical qualifier: '', '余', '约' or '约余'."""
    key = qualifier.strip() if isinstance(qualifier, str) else qualifier
    if key not in _QUALIFIER_SPELLINGS:
        raise ValueError(f"unknown qualifier {qualifier!r}; expected one of {QUALIFIERS}")
    return _QUALIFIER_SPELLINGS[key]


def plain(number: Decimal) -> str:
    """Write a Decimal without exponent or trailing zeros (72000, 0.7, 1.365)."""
    if number == 0:
        return "0"
    return format(number.normalize(), "f")


def _to_step(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    return (value / step).quantize(Decimal(1), rounding=rounding) * step


def render_number(value: object, rendering: Rendering) -> str:
    """Render a value's number and qualifier without its unit (`7.2万余`, `约0.7万`)."""
    number = to_decimal(value)
    qualifier = rendering.qualifier
    if qualifier == "余":
        shown = _to_step(number, rendering.step, ROUND_FLOOR)
    elif qualifier in ("约", "约余"):
        shown = _to_step(number, rendering.step, ROUND_HALF_UP)
    else:
        shown = number
    if shown == 0 and number != 0:
        # "0余" or "约0万" says nothing; the report would print the small value as it is.
        shown, qualifier = number, ""
    text = plain(shown / WAN) + "万" if rendering.wan else plain(shown)
    if qualifier == "余":
        return text + "余"
    if qualifier == "约":
        return "约" + text
    if qualifier == "约余":
        return "约" + text + "余"
    return text


def render(value: object, rendering: Rendering, unit: str = "") -> str | None:
    """Render a value as the report prints it (`1.365万元`, `约8万余人次`, `100%`); None stays None."""
    if value is None:
        return None
    return render_number(value, rendering) + unit


def parse_printed(text: str) -> tuple[Decimal, str]:
    """Read a printed figure (`约8万余人次`) back into its number (80000) and qualifier ('约余')."""
    match = _PRINTED.match(text)
    if not match:
        raise ValueError(f"no printed number in {text!r}")
    about, digits, wan, over = match.groups()
    number = Decimal(digits) * (WAN if wan else 1)
    return number, ("约" if about else "") + ("余" if over else "")


def last_digit_unit(number: object) -> Decimal:
    """Return the place value of a number's last non-zero digit (72000 → 1000, 1.5 → 0.1)."""
    n = to_decimal(number)
    if n == 0:
        return Decimal(1)
    return Decimal(1).scaleb(n.normalize().as_tuple().exponent)


def agrees(printed_number: object, qualifier: str | None, value: object) -> bool:
    """Tell whether a printed figure (number in the value's unit, qualifier) agrees with a value."""
    if value is None or printed_number is None:
        return False
    if isinstance(printed_number, str):
        number, parsed = parse_printed(printed_number)
        qualifier = qualifier if qualifier else parsed
    else:
        number = to_decimal(printed_number)
    v = to_decimal(value)
    unit = last_digit_unit(number)
    half = unit / 2
    match normalise_qualifier(qualifier):
        case "":
            return v == number
        case "余":
            return number <= v < number + unit
        case "约":
            return number - half <= v < number + half
        case _:  # 约余
            return number - half <= v < number + unit
