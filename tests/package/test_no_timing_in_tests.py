"""The suite never fails on time (issue 15): a loaded machine makes tests slower, never red.

Hypothesis runs with no deadline and without its time-based health check, from the profile
`tests/conftest.py` loads for every test; a test that sets its own settings keeps both off.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, settings

TESTS = Path(__file__).resolve().parents[1]


def test_the_profile_of_every_test_has_no_deadline_and_no_time_check():
    assert settings.default.deadline is None
    assert HealthCheck.too_slow in settings.default.suppress_health_check


def test_no_test_sets_a_deadline_or_turns_the_time_check_back_on():
    wrong, seen = [], 0
    for path in TESTS.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for call in re.finditer(r"@(?:hypothesis\.)?settings\((.*?)\)\n", text, re.DOTALL):
            args, seen = call.group(1), seen + 1
            if re.search(r"\bdeadline\s*=\s*(?!None\b)", args):
                wrong.append(f"{path.relative_to(TESTS)}: a deadline: {args}")
            # Naming health checks replaces the profile's list: too_slow must stay in it.
            if "suppress_health_check" in args and "too_slow" not in args:
                wrong.append(f"{path.relative_to(TESTS)}: too_slow checked again: {args}")
    assert seen >= 10  # the property tests were found
    assert wrong == []
