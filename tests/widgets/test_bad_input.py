"""Every component holds every hostile value (see ``hostile.py``): through a cell assignment
and through its constructor, with a short message, the last good state and its controls."""
import pytest

from tests.widgets.hostile import HOSTILE, check_assignment, check_constructor, factories

_FACTORIES = factories()
_CASES = [(c, n) for c, f in _FACTORIES.items() for n in f().get_state_dict()]


@pytest.mark.parametrize("component,name", _CASES)
def test_every_hostile_value_is_held(component, name):
    factory = _FACTORIES[component]
    findings = []
    for label, value in HOSTILE:
        for how, problem in (("cell", check_assignment(factory(), name, value)),
                             ("constructor", check_constructor(factory, name, value))):
            if problem:
                findings.append(f"{how} {name} = {label}: {problem}")
    assert not findings, "\n".join(findings)
