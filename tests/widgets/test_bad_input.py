"""Every component holds every hostile value (see ``hostile.py``): through a cell assignment
and through its constructor, with a short message, the last good state and its controls."""
import pytest

from tests.widgets.hostile import factories, findings, other_traits

_FACTORIES = factories()
_CASES = [(c, n) for c, f in _FACTORIES.items() for n in f().get_state_dict()]
_OTHERS = [(c, n) for c, f in _FACTORIES.items() for n in other_traits(f())]


@pytest.mark.parametrize("component,name", _CASES)
def test_every_hostile_value_is_held(component, name):
    _, found = findings(_FACTORIES[component], name)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("component,name", _OTHERS)
def test_outputs_and_engine_objects_are_held_too(component, name):
    """``lab.n_liquidated = 5`` or ``lab.book = "x"`` in a cell, ``Lab(book="x")``: a short
    message (or, for an engine object passed to the constructor, a short MarginInputError)."""
    _, found = findings(_FACTORIES[component], name, inputs=False)
    assert not found, "\n".join(found)
