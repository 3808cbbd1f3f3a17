"""The component layer's contract, checked on every component at once (issue 13):

* one binding mechanism: only ``widgets._ui.Component`` defines the quiet context, the control
  binding and the control sync; no component keeps a flag or a variant of its own;
* every trait a component declares has ``help=``, and its docstring lists it under a section
  numpydoc knows (``Attributes``, as bqplot's marks do);
* components import the engine's public namespace only (``from .engine import name``).
"""
from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
import traitlets as T

import widgets
from widgets._ui import Component

ROOT = Path(widgets.__file__).parent
MODULES = sorted(p for p in ROOT.glob("*.py") if p.name not in ("__init__.py",))
COMPONENTS = [getattr(widgets, n) for n in widgets.__all__
              if inspect.isclass(getattr(widgets, n, None))
              and issubclass(getattr(widgets, n), Component)]

# The sections numpydoc's docscrape recognises (numpydoc.docscrape.NumpyDocString.sections).
NUMPYDOC_SECTIONS = {"Parameters", "Returns", "Yields", "Receives", "Raises", "Warns",
                     "Other Parameters", "Attributes", "Methods", "See Also", "Notes",
                     "Warnings", "References", "Examples"}
BINDING = {"_silently", "_bind", "_from_control", "_sync_controls", "_revert", "_quiet"}
FLAGS = {"_syncing", "_quiet", "_quiet_depth", "_silenced"}


def _own_traits(cls) -> list:
    base = set(Component.class_trait_names())
    return sorted(n for n in cls.class_trait_names() if n not in base and not n.startswith("_"))


def _sections(doc: str) -> list:
    lines = inspect.cleandoc(doc).splitlines()
    return [lines[i].strip() for i in range(len(lines) - 1)
            if lines[i].strip() and re.fullmatch(r"-{3,}", lines[i + 1].strip())]


def test_every_exported_component_is_found():
    assert len(COMPONENTS) >= 12, [c.__name__ for c in COMPONENTS]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_one_binding_mechanism(path):
    """No class outside ``_ui`` defines the binding methods or sets a quiet flag of its own."""
    if path.name == "_ui.py":
        return
    tree = ast.parse(path.read_text())
    found = []
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        for node in ast.walk(cls):
            if isinstance(node, ast.FunctionDef) and node.name in BINDING:
                found.append(f"{cls.name}.{node.name}()")
            if isinstance(node, ast.Attribute) and node.attr in FLAGS \
                    and isinstance(node.ctx, ast.Store):
                found.append(f"{cls.name} sets self.{node.attr}")
    assert not found, f"{path.name}: " + ", ".join(found)


@pytest.mark.parametrize("cls", COMPONENTS, ids=lambda c: c.__name__)
def test_every_trait_has_help_and_is_documented_in_attributes(cls):
    traits = _own_traits(cls)
    no_help = [n for n in traits if not getattr(cls, n).help]
    assert not no_help, f"{cls.__name__}: traits without help=: {no_help}"
    sections = _sections(cls.__doc__ or "")
    unknown = [s for s in sections if s not in NUMPYDOC_SECTIONS]
    assert not unknown, f"{cls.__name__}: sections numpydoc does not know: {unknown}"
    assert "Attributes" in sections, f"{cls.__name__}: no Attributes section"
    doc = inspect.cleandoc(cls.__doc__)
    attributes = doc.split("Attributes\n----------", 1)[1]
    attributes = re.split(r"\n\S[^\n]*\n-{3,}", attributes, maxsplit=1)[0]
    listed = set(re.findall(r"^(\w+)(?:, (\w+))*\s*:", attributes, re.M))
    names = {n for group in listed for n in group if n}
    names |= {n for line in attributes.splitlines() if not line.startswith(" ")
              for n in re.findall(r"\b(\w+)\b", line.split(":")[0])}
    missing = [n for n in traits if n not in names]
    assert not missing, f"{cls.__name__}: traits missing from Attributes: {missing}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_components_import_only_the_engines_public_namespace(path):
    tree = ast.parse(path.read_text())
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = ("." * node.level) + (node.module or "")
            if re.match(r"^(\.|widgets\.)engine\.", module):
                bad.append(f"from {module} import ...")
            elif re.match(r"^(\.|widgets\.)engine$", module):
                bad += [f"from {module} import {a.name}" for a in node.names
                        if a.name.startswith("_")]
        if isinstance(node, ast.Import):
            bad += [a.name for a in node.names if a.name.startswith("widgets.engine.")]
    assert not bad, f"{path.name}: " + "; ".join(bad)


# Inputs that are rightly plain: free text, or a choice whose options are the market's assets
# (the engine checks it, naming the assets: ``market.index``).
PLAIN = {"LiquidationTable.title": "free text", "BracketChart.asset": "one of market.assets"}


def test_traits_are_declared_with_rules():
    """Numeric inputs carry their bounds (Finite / Whole) and choices are enums (Choice)."""
    loose = []
    for cls in COMPONENTS:
        for name in getattr(cls, "_state_traits", ()):
            trait = getattr(cls, name)
            if type(trait) in (T.Float, T.Int, T.Unicode) \
                    and f"{cls.__name__}.{name}" not in PLAIN:
                loose.append(f"{cls.__name__}.{name}: {type(trait).__name__}")
    assert not loose, loose


TEST_FILES = sorted((ROOT.parent / "tests" / "widgets").glob("*.py")) + [
    ROOT.parent / "tests" / "test_course.py", ROOT.parent / "tests" / "test_lessons.py"]
PRIVATE_MODULES = {"_ui", "_controls", "_labels"}       # private modules, public names inside


@pytest.mark.parametrize("path", TEST_FILES, ids=lambda p: p.name)
def test_widget_tests_read_no_private_attribute(path):
    """Tests use the public surface (traits, ``figures``, ``controls``, ``chart_data()``,
    ``problem``, ``summary``, engine results), so the components can be restructured."""
    tree = ast.parse(path.read_text())
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") \
                and not (node.attr.startswith("__") and node.attr.endswith("__")) \
                and node.attr not in PRIVATE_MODULES | {"_repr_html_"} \
                and not (isinstance(node.value, ast.Name) and node.value.id == "self"):
            bad.append(f"line {node.lineno}: .{node.attr}")
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("widgets"):
            bad += [f"line {node.lineno}: import {a.name}" for a in node.names
                    if a.name.startswith("_") and a.name not in PRIVATE_MODULES]
    assert not bad, f"{path.name}: " + ", ".join(bad)
