"""Every ``glossary.md#anchor`` a lesson or guide links to exists in lessons/glossary.md.

An anchor resolves on GitHub if it is a heading's GitHub slug or an explicit ``<a id>``; in
JupyterLab's Markdown preview if it is the heading's text with spaces as hyphens or an explicit
``<a id>``. Both are checked, so a link works wherever a learner reads the course.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LESSONS = REPO / "lessons"


def _anchors():
    text = (LESSONS / "glossary.md").read_text(encoding="utf-8")
    headings = re.findall(r"^#{1,6} (.+?)\s*$", text, re.M)
    github = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}
    lab = {h.strip().replace(" ", "-") for h in headings}
    explicit = set(re.findall(r'<a id="([^"]+)"></a>', text))
    return github | explicit, lab | explicit


def _text(path: Path) -> str:
    raw = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        raw = "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                        for c in json.loads(raw)["cells"])
    return raw


def test_every_glossary_link_resolves():
    github, lab = _anchors()
    files = sorted(LESSONS.glob("*.ipynb")) + sorted(LESSONS.glob("*.md"))
    bad, linked = [], 0
    for path in files:
        for anchor in sorted(set(re.findall(r"glossary\.md#([A-Za-z0-9_\-]+)", _text(path)))):
            linked += 1
            missing = [n for n, ok in (("GitHub", anchor in github), ("JupyterLab", anchor in lab))
                       if not ok]
            if missing:
                bad.append(f"{path.name}: #{anchor} does not resolve on {' and '.join(missing)}")
    assert linked > 20, "lessons should link their terms to the glossary"
    assert not bad, "\n".join(bad)
