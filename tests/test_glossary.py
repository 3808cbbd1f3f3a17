"""Links resolve: every ``glossary.md#anchor`` exists, and every relative link in lessons/ (files
and anchors) resolves (``tools/links.py``).

An anchor resolves on GitHub if it is a heading's GitHub slug or an explicit ``<a id>``; in
JupyterLab's Markdown preview if it is the heading's text with spaces as hyphens or an explicit
``<a id>``. Both are checked, so a link works wherever a learner reads the course.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from tools import links

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


LINKED_FILES = (sorted(LESSONS.glob("*.ipynb")) + sorted((LESSONS / "apps").glob("*.ipynb"))
                + sorted(LESSONS.glob("*.md")))


def test_every_relative_link_resolves():
    """Every relative link in the lessons' markdown, the apps, the glossary and the guide points
    to a file of the repository, and its #fragment (if any) to a heading or id of that file --
    for .md files as both GitHub and JupyterLab make heading anchors (tools/links.py)."""
    bad = [p for path in LINKED_FILES for p in links.problems(path)]
    checked = sum(len(links.links_in(text)) for path in LINKED_FILES
                  for _, text in links.markdown_texts(path))
    assert checked > 100, f"only {checked} links found: is the link pattern still right?"
    assert not bad, "\n".join(bad)


def test_link_check_catches_broken_links(tmp_path):
    """The checker itself fails on what broke before (lesson 06's ``[gap]({G}#gap-risk)``)."""
    page = tmp_path / "page.md"
    (tmp_path / "other.md").write_text('<a id="gap-risk"></a>\n### Gap risk\n\n## Recap\n',
                                       encoding="utf-8")
    nb = {"cells": [{"cell_type": "markdown", "metadata": {},
                     "source": ["## 3. Pooling: `CorrelationLab`\n"]}]}
    (tmp_path / "lesson.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    page.write_text('<a id="here"></a>\n# Here\n'
                    "[a]({G}#gap-risk) [b](other.md#no-such) [c](missing.ipynb) "
                    "[d](#not-here) [e](other.md#Gap-risk) `[f](in-code.md)`\n"
                    "[ok1](other.md#gap-risk) [ok2](lesson.ipynb#3.-Pooling:-CorrelationLab) "
                    "[ok3](#here) [ok4](https://example.org/x) [ok5](other.md) "
                    '<a href="lesson.ipynb">ok6</a>', encoding="utf-8")
    found = links.problems(page, root=tmp_path)
    assert [f.split(": ", 1)[1].split(":")[0] for f in found] == [
        "{G}#gap-risk", "other.md#no-such", "missing.ipynb", "#not-here", "other.md#Gap-risk"
    ], found
    # "## Recap" is #recap on GitHub but #Recap in JupyterLab: in an .md file neither alone
    # works in both, so a link to it is flagged (the glossary gives every term an explicit id)
    page.write_text("[recap](other.md#recap) [Recap](other.md#Recap)", encoding="utf-8")
    assert len(links.problems(page, root=tmp_path)) == 2
