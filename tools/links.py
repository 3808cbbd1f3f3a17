"""Relative links in the course's markdown: find them and check that each one resolves.

A relative link resolves when its file exists in the repository (relative to the file that holds
the link) and, if it has a ``#fragment``, the target has that anchor:

* an explicit ``<a id="...">`` / ``<... id="...">``, or a heading;
* a heading's anchor as **JupyterLab** makes it (the heading's text with spaces turned into
  ``-``, case and punctuation kept: ``## 3. Pooling`` -> ``3.-Pooling``), and for ``.md`` files
  also as **GitHub** makes it (lower case, punctuation dropped: ``3-pooling``), since both show
  the glossary and the instructor guide.

Used by ``tests/test_glossary.py`` (every link in ``lessons/``) and by the browser tier (links
as the rendered page shows them).

    python tools/links.py lessons/*.ipynb lessons/*.md lessons/apps/*.ipynb
"""
from __future__ import annotations

import json
import re
import sys
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parents[1]

_CODE = re.compile(r"(```.*?```|``[^`]*?``|`[^`\n]*`)", re.S)
_FENCE = re.compile(r"```.*?```", re.S)
# [text](target "title") and ![alt](target); the target may be wrapped in <...>
_MD_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HTML_LINK = re.compile(r"""<(?:a|img|link|source)\b[^>]*?\b(?:href|src)\s*=\s*["']([^"']+)["']""",
                        re.I)
_EXPLICIT_ID = re.compile(r"""<[a-zA-Z][^>]*?\b(?:id|name)\s*=\s*["']([^"']+)["']""")
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", re.M)
_EXTERNAL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")      # http:, https:, mailto:, data:


def _plain(text: str) -> str:
    """Markdown text without code spans / fences (links inside code are examples, not links)."""
    return _CODE.sub(" ", text)


def markdown_texts(path: Path) -> list[tuple[str, str]]:
    """(label, markdown) for each markdown cell of a notebook, or the whole of a .md file."""
    raw = Path(path).read_text(encoding="utf-8")
    if Path(path).suffix != ".ipynb":
        return [(str(path), raw)]
    cells = json.loads(raw)["cells"]
    return [(f"{Path(path).name} cell {i}",
             "".join(c["source"]) if isinstance(c["source"], list) else c["source"])
            for i, c in enumerate(cells) if c["cell_type"] == "markdown"]


def links_in(text: str) -> list[str]:
    """Every link target in a markdown text (markdown and HTML links), code excluded."""
    plain = _plain(text)
    return _MD_LINK.findall(plain) + _HTML_LINK.findall(plain)


def _heading_text(heading: str) -> str:
    """A heading's text as the browser shows it (what JupyterLab turns into its anchor)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)   # links -> their text
    text = re.sub(r"<[^>]+>", "", text)                          # inline HTML tags
    text = text.replace("`", "")
    text = re.sub(r"(\*\*|__|\*|(?<!\w)_|_(?!\w))", "", text)    # emphasis markers
    return text.strip()


def lab_anchor(heading: str) -> str:
    return _heading_text(heading).replace(" ", "-")


def github_anchor(heading: str) -> str:
    text = _heading_text(heading).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


@lru_cache(maxsize=None)
def anchors(path: Path) -> tuple[frozenset, frozenset]:
    """(JupyterLab anchors, GitHub anchors) of a .md or .ipynb file; explicit ids are in both."""
    text = "\n".join(t for _, t in markdown_texts(path))
    plain = _plain(text)
    headings = _HEADING.findall(_FENCE.sub(" ", text))      # code spans are part of a heading
    explicit = set(_EXPLICIT_ID.findall(plain))
    lab = {lab_anchor(h) for h in headings} | explicit
    github = {github_anchor(h) for h in headings} | explicit
    return frozenset(lab), frozenset(github)


def check(base: Path, target: str, root: Path = REPO) -> str | None:
    """Why the link ``target`` written in a file in directory ``base`` does not resolve (None
    when it does, or when it is external: http(s), mailto, data, ...)."""
    if _EXTERNAL.match(target):
        return None
    parts = urlsplit(target)
    path_part, fragment = unquote(parts.path), unquote(parts.fragment)
    dest = (base / path_part).resolve() if path_part else None
    if dest is not None:
        try:
            dest.relative_to(root.resolve())
        except ValueError:
            return f"{target}: points outside the repository"
        if not dest.exists():
            return f"{target}: no file {dest.relative_to(root.resolve())}"
    if not fragment:
        return None
    if dest is None:
        return None                     # a same-page #fragment: the caller checks its page
    if dest.suffix not in (".md", ".ipynb"):
        return None
    lab, github = anchors(dest)
    missing = [name for name, ok in (("JupyterLab", fragment in lab),
                                     ("GitHub", dest.suffix != ".md" or fragment in github))
               if not ok]
    if missing:
        return f"{target}: no anchor #{fragment} in {dest.name} (as {' and '.join(missing)} " \
               "makes heading anchors)"
    return None


def problems(path: Path, root: Path = REPO) -> list[str]:
    """Every relative link in ``path`` (.md or .ipynb) that does not resolve, including
    same-page ``#fragments``."""
    path = Path(path)
    own_lab, own_github = anchors(path)
    out = []
    for label, text in markdown_texts(path):
        for target in links_in(text):
            if target.startswith("#"):
                frag = unquote(target[1:])
                ok = frag in own_lab and (path.suffix != ".md" or frag in own_github)
                why = None if ok else f"{target}: no such anchor on this page"
            else:
                why = check(path.parent, target, root)
            if why:
                out.append(f"{label}: {why}")
    return out


if __name__ == "__main__":
    bad = [p for arg in sys.argv[1:] for p in problems(Path(arg))]
    print("\n".join(bad) or "every relative link resolves")
    sys.exit(1 if bad else 0)
