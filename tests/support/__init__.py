"""Helpers shared by the test suite, in one place (issue 13, point 5).

Import them by their full name, ``from tests.support.strategies import books`` (pytest's
``pythonpath = ["."]`` puts the repository root on ``sys.path``; scripts such as the benchmarks
insert it themselves). There is no second spelling and no ``try/except ImportError`` fallback.

* :mod:`tests.support.strategies` -- hypothesis strategies for markets, books and shocks, and
  :func:`~tests.support.strategies.fast`, the one ``settings`` profile of the property tests.
* :mod:`tests.support.reference` -- the scalar reference implementation of the engine (the
  differential tests' oracle and the cascade benchmark's baseline).
* :mod:`tests.support.tolerances` -- the tolerances used across tests: money comparisons scaled
  by a book's gross notional, and numbers as shown rounded in prose.

Nothing here is collected as a test except the docstring examples (``--doctest-modules``).
"""
