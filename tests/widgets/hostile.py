"""The bad-input harness: every component, every input, every hostile value.

A value is *held* when assigning it in a cell (``lab.shock = value``) or passing it to the
constructor (``Lab(shock=value)``) raises nothing, prints no warning, and either

* is accepted (then the input reads back as assigned and no problem is shown), or
* is refused: ``problem`` holds a message of at most 300 characters, the inputs are all still
  the last good ones, and every control still shows what it showed before.

The component's other traits (its outputs, and the engine objects it is built on: ``market``,
``book``, ``account``...) are tried too: a cell assignment is held the same way (refused with a
message, inputs unchanged); passed to the constructor, an output is refused with a message and
an engine object either is refused with a message or raises ``MarginInputError`` (a
``ValueError`` with a message of at most 300 characters naming the argument), as the engine's
own functions do: the constructor policy in ``widgets._ui.Component``.

``python -m tests.widgets.hostile`` prints how many inputs were tried and held per component
(the figure the issue asks for); ``tests/widgets/test_bad_input.py`` runs the same table.
"""
from __future__ import annotations

import math
import sys
import warnings


def _nested(depth: int):
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


#: (label, value): wrong types, non-finite and absurd numbers, hostile sizes and nesting
HOSTILE = (
    ("a string", "30000"),
    ("None", None),
    ("a bool", True),
    ("a list", [1, 2]),
    ("a dict", {"BTC": "x"}),
    ("NaN", math.nan),
    ("+inf", math.inf),
    ("-inf", -math.inf),
    ("1e308", 1e308),
    ("-1e308", -1e308),
    ("10**100", 10**100),
    ("1.5", 1.5),
    ("-7", -7),
    ("250,000 characters", "x" * 250_000),
    ("3,000-deep nested list", _nested(3_000)),
    ("an object", object()),
)


def factories() -> dict:
    """Component name -> zero-argument constructor (small books, so the table runs fast)."""
    import widgets as w
    return {
        "ShockPanel": lambda **k: w.ShockPanel(**k),
        "HealthGauge": lambda **k: w.HealthGauge(**k),
        "MarginBreakdown": lambda **k: w.MarginBreakdown(**k),
        "PoolingLab": lambda **k: w.PoolingLab(**k),
        "CorrelationLab": lambda **k: w.CorrelationLab(**k),  # refused input -> class default
        "CascadeLab": lambda **k: w.CascadeLab(n_accounts=300, **k),
        "InsuranceFundLab": lambda **k: w.InsuranceFundLab(n_accounts=300, **k),
        "SpiralChart": lambda **k: w.SpiralChart(**k),
        "AdlQueueChart": lambda **k: w.AdlQueueChart(**k),
        "BracketChart": lambda **k: w.BracketChart(**k),
        "PolicyFrontier": lambda **k: w.PolicyFrontier(n_accounts=300, **k),
        "SelfCheck": lambda **k: w.SelfCheck("How much?", lambda: 1.0, **k),
    }


def _control_values(widget) -> dict:
    return {n: repr(getattr(c, "value", None)) for n, c in widget.controls.items()}


def check_assignment(widget, name: str, value) -> str | None:
    """Assign ``value`` to input ``name`` as a cell would; None when held, else what went wrong."""
    before, shown = widget.get_state_dict(), _control_values(widget)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            setattr(widget, name, value)
    except BaseException as exc:                        # noqa: BLE001 - the finding itself
        return f"raised {type(exc).__name__}: {str(exc)[:120]}"
    return _verdict(widget, name, value, before, shown)


def check_constructor(factory, name: str, value) -> str | None:
    """Build the component with ``name=value``; None when held, else what went wrong."""
    default = factory()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            widget = factory(**{name: value})
    except BaseException as exc:                        # noqa: BLE001
        return f"raised {type(exc).__name__}: {str(exc)[:120]}"
    return _verdict(widget, name, value, default.get_state_dict(), _control_values(default))


def _verdict(widget, name, value, before: dict, shown: dict) -> str | None:
    after = widget.get_state_dict()
    if not widget.problem:                              # accepted: it must read back as given
        got = after.get(name)
        same = _same(got, value) or (isinstance(got, dict) and isinstance(value, dict)
                                     and all(_same(got.get(k), v) for k, v in value.items()))
        return None if same else f"silently changed to {str(got)[:80]} (no message)"
    if len(widget.problem) > 300:
        return f"message of {len(widget.problem)} characters"
    if after != before:
        return "refused, but the inputs changed"
    if _control_values(widget) != shown:
        return "refused, but a control no longer shows the last good value"
    return None


def _same(got, value) -> bool:
    numbers = (int, float)
    if isinstance(got, numbers) and isinstance(value, numbers) and not isinstance(value, bool):
        return float(got) == float(value)      # 10**100 reads back as 1e100
    return got == value


def other_traits(widget) -> list:
    """The component's declared traits that are not inputs (outputs, engine objects)."""
    from widgets._ui import Component
    base = set(Component.class_trait_names()) - {"problem", "summary"}
    inputs = set(widget.get_state_dict())
    return sorted(n for n in widget.trait_names() if n not in base and n not in inputs
                  and not n.startswith("_"))


def check_other_assignment(widget, name: str, value) -> str | None:
    """Assign ``value`` to a non-input trait in a cell: held when it raises nothing, prints no
    warning and leaves the inputs as they were (accepted or refused with a short message)."""
    before = widget.get_state_dict()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            setattr(widget, name, value)
    except BaseException as exc:                        # noqa: BLE001
        return f"raised {type(exc).__name__}: {str(exc)[:120]}"
    if widget.problem and len(widget.problem) > 300:
        return f"message of {len(widget.problem)} characters"
    if widget.get_state_dict() != before:
        return "the inputs changed"
    return None


def check_other_constructor(factory, name: str, value) -> str | None:
    """Pass a non-input trait to the constructor: a message, or a short MarginInputError."""
    from widgets.engine import MarginInputError
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            widget = factory(**{name: value})
    except MarginInputError as exc:
        return None if len(str(exc)) <= 300 and name in str(exc) else \
            f"MarginInputError not naming {name} in 300 characters: {str(exc)[:120]}"
    except BaseException as exc:                        # noqa: BLE001
        return f"raised {type(exc).__name__}: {str(exc)[:120]}"
    if value is None:
        return None                                     # None: the default object
    return None if widget.problem and len(widget.problem) <= 300 else \
        f"accepted {str(value)[:40]} with no message"


def findings(factory, name: str, inputs: bool = True) -> tuple[int, list]:
    """Try every hostile value on trait ``name`` of ``factory()``'s component, in a cell and
    through the constructor, with the input checks (``inputs``) or the output/object ones.
    Returns ``(tried, [what went wrong, ...])``."""
    cell, ctor = ((check_assignment, check_constructor) if inputs
                  else (check_other_assignment, check_other_constructor))
    tried, found = 0, []
    for label, value in HOSTILE:
        for how, problem in (("cell", cell(factory(), name, value)),
                             ("constructor", ctor(factory, name, value))):
            tried += 1
            if problem:
                found.append(f"{how} {name} = {label}: {problem}")
    return tried, found


def run_table(names=None) -> dict:
    """``{component: (tried, held, [findings])}`` over every trait and hostile value."""
    out = {}
    for cname, factory in factories().items():
        if names and cname not in names:
            continue
        widget = factory()
        tried, found = 0, []
        for name, inputs in ([(n, True) for n in widget.get_state_dict()]
                             + [(n, False) for n in other_traits(widget)]):
            n, f = findings(factory, name, inputs)
            tried, found = tried + n, found + f
        out[cname] = (tried, tried - len(found), found)
    return out


if __name__ == "__main__":
    table = run_table(sys.argv[1:])
    total_tried = total_held = 0
    for cname, (tried, held, findings) in table.items():
        total_tried, total_held = total_tried + tried, total_held + held
        print(f"{cname:18s} tried {tried:4d}  held {held:4d}")
        for f in findings:
            print("    " + f)
    print(f"{'all':18s} tried {total_tried:4d}  held {total_held:4d}")
