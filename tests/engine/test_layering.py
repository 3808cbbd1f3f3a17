"""Layering of the engine package: no module reaches into another module's private names.

Engine internals shared by several engine modules live in a private *module* (a file whose name
starts with ``_``, e.g. ``_pool.py``, ``_settlement.py``, ``_validate.py``) under *public* names,
the pattern of QuantEcon.py's ``_lqcontrol.py``. So an import such as
``from .liquidation import _settle`` or an attribute read such as ``margin._pool_sums`` (where
``margin`` is a module) is a layering error: the private name is an implementation detail of the
module that defines it.

The check is static (``ast``): it reads every ``widgets/engine/*.py`` without importing it.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import widgets.engine

ENGINE = Path(widgets.engine.__file__).resolve().parent
PACKAGE = "widgets.engine"
MODULES = sorted(p.stem for p in ENGINE.glob("*.py"))


def _private(name: str) -> bool:
    """A private name: one leading underscore, not a dunder such as ``__version__``."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _target(node: ast.ImportFrom) -> str | None:
    """The engine module an ``ImportFrom`` reads from (``""`` for the package), else None."""
    if node.level == 1:
        return node.module or ""
    if node.level == 0 and node.module and (node.module == PACKAGE
                                            or node.module.startswith(PACKAGE + ".")):
        return node.module[len(PACKAGE) + 1:]
    return None


def layering_violations(source: str, module: str) -> list[str]:
    """Every place where ``source`` (the text of engine module ``module``) uses a private name
    that another engine module defines.

    Flags ``from .x import _name`` (also ``from widgets.engine.x import _name``) and
    ``x._name`` where ``x`` is bound to an engine module in ``source`` (``from . import x``,
    ``import widgets.engine.x as x``, ``importlib.import_module("widgets.engine.x")``).
    Importing a private *module* (``from . import _validate``) is allowed: that is where shared
    internals live.
    """
    tree = ast.parse(source)
    out = []
    aliases = {}                                # local name -> engine module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = _target(node)
            if target is None:
                continue
            for alias in node.names:
                local = alias.asname or alias.name
                if target == "" and alias.name in MODULES:         # from . import x
                    aliases[local] = alias.name
                elif _private(alias.name) and target != module:
                    out.append(f"{module}.py:{node.lineno}: from .{target} import {alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE + ".") and alias.asname:
                    aliases[alias.asname] = alias.name[len(PACKAGE) + 1:]
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1
              and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Call)
              and isinstance(node.value.func, ast.Attribute)
              and node.value.func.attr == "import_module" and node.value.args
              and isinstance(node.value.args[0], ast.Constant)
              and str(node.value.args[0].value).startswith(PACKAGE + ".")):
            aliases[node.targets[0].id] = str(node.value.args[0].value)[len(PACKAGE) + 1:]
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and _private(node.attr)):
            continue
        base = node.value
        if isinstance(base, ast.Name) and base.id in aliases:
            owner = aliases[base.id]
        elif (isinstance(base, ast.Attribute)                    # widgets.engine.x._name
              and ast.unparse(base).startswith(PACKAGE + ".")):
            owner = ast.unparse(base)[len(PACKAGE) + 1:]
        else:
            continue
        if owner != module:
            out.append(f"{module}.py:{node.lineno}: {ast.unparse(node)}")
    return out


@pytest.mark.parametrize("module", MODULES)
def test_no_module_uses_another_modules_private_names(module):
    source = (ENGINE / f"{module}.py").read_text(encoding="utf-8")
    assert layering_violations(source, module) == []


@pytest.mark.parametrize("source, expected", [
    ("from .liquidation import _settle, check_fund", ["cascade.py:1: from .liquidation import _settle"]),
    ("from widgets.engine.margin import _pool_sums", ["cascade.py:1: from .margin import _pool_sums"]),
    ("from . import margin\nx = margin._pool_sums", ["cascade.py:2: margin._pool_sums"]),
    ("import widgets.engine.margin as mg\nmg._WC", ["cascade.py:2: mg._WC"]),
    ("import importlib\nm = importlib.import_module('widgets.engine.margin')\nm._WC",
     ["cascade.py:3: m._WC"]),
    ("import widgets.engine.margin\nwidgets.engine.margin._WC", ["cascade.py:2: widgets.engine.margin._WC"]),
    # allowed: public names, private modules, a module's own private names, dunders, instances
    ("from ._pool import WC, pool_sums\nfrom . import _validate", []),
    ("from .cascade import _helper", []),
    ("from .margin import __doc__", []),
    ("def f(book):\n    return book._stack", []),
    ("import numpy as np\nnp._NoValue", []),
])
def test_checker_flags_cross_module_private_use(source, expected):
    """The checker itself can fail: each known pattern is reported, each allowed one is not."""
    assert layering_violations(source, "cascade") == expected
