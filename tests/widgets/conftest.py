"""Headless widget testing: no kernel, no browser.

ipywidgets opens a comm per widget through ``comm.create_comm``; outside a kernel that is a
``DummyComm``. The ``comm_log`` fixture swaps in a recording comm so tests can count the update
messages a change sends (one per mark per change is the goal: ``hold_sync``).
"""
from __future__ import annotations

import comm
import pytest
from comm import DummyComm


class RecordingComm(DummyComm):
    log: list = []

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        RecordingComm.log.append((self.comm_id, msg_type, data or {}))


class CommLog:
    """Messages sent by widgets created while the fixture is active."""

    def __init__(self):
        self.messages = RecordingComm.log

    def clear(self) -> None:
        self.messages.clear()

    def updates_for(self, widget) -> list:
        """``update`` messages (state changes) sent by ``widget``'s comm."""
        cid = widget.comm.comm_id
        return [d for c, t, d in self.messages
                if c == cid and t == "comm_msg" and d.get("method") == "update"]


@pytest.fixture
def comm_log(monkeypatch):
    RecordingComm.log = []
    monkeypatch.setattr(comm, "create_comm", lambda *a, **k: RecordingComm(*a, **k))
    log = CommLog()
    log.messages = RecordingComm.log
    yield log
