"""Lesson authoring and checking scripts (run as ``python tools/NAME.py``; the tests import
``tools.links`` and ``tools.currency``)."""
