"""What the learner sees on the rendered page: maths, overlapping text, legends, links.

Shared by the JupyterLab and Voilà tests (no pytest imports). Each check returns a list of
problems (strings naming the figure / cell / text), empty when the page is right:

* **maths** -- no MathJax error node (``mjx-merror``) and no raw TeX left in the rendered
  markdown text outside maths and code (``\\$``, ``{,}``, ``\\times``, ``\\rho``, ``\\frac``, ...).
  A markdown cell is given time to be typeset (MathJax works asynchronously): the check waits
  until its text is clean or ``MATH_TIMEOUT_MS`` has passed, then reports what is left.
* **text overlap** -- no two visible SVG texts of one bqplot figure (tick labels, axis labels,
  the title, mark labels, legend entries) overlap by more than ``OVERLAP_TOLERANCE_PX`` in both
  directions; texts inside a mark's clip are measured only where the plot area shows them.
* **legends** -- a figure's legend box covers no tick label and no data: no bar / dot / cell /
  mark label box and no point of a line (sampled along the path) inside it.
* **choices** -- the options of a choice group (radio buttons, toggle buttons,
  ``role=radiogroup``) do not overlap, are not cut, and a click at an option's centre lands on
  that option (not on its neighbour).
* **links** -- every link in rendered markdown and widget HTML is collected with its raw
  ``href``; :func:`link_problems` resolves the relative ones against the lessons folder the
  server serves (file and ``#fragment``, with ``tools/links.py``).
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from tools import links

REPO = Path(__file__).resolve().parents[2]
OVERLAP_TOLERANCE_PX = 2.0    # text boxes may touch (font ascent / descent), not overlap
MATH_TIMEOUT_MS = 15_000      # per markdown cell: MathJax typesets it within this



JS_RENDER = r"""
(() => {
  if (window.__cmlRender) return;
  const TOL = %(tol)s;
  const RAW_TEX = /\\\$|\{,\}|\\(?:times|rho|frac|sqrt|sigma|lambda|alpha|approx|varepsilon|text|mathbf|sum|cdot|ge|le|pm)(?![A-Za-z])/;
  const MARKDOWN = '.jp-RenderedMarkdown, .jp-MarkdownOutput, .jp-RenderedLatex';
  const short = (s, n) => (s || '').replace(/\s+/g, ' ').trim().slice(0, n || 50);
  const box = (el) => el.getBoundingClientRect();
  const inter = (a, b) => [Math.min(a.right, b.right) - Math.max(a.left, b.left),
                           Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top)];
  const overlap = (a, b, tol) => { const [w, h] = inter(a, b); return w > tol && h > tol; };
  const clipTo = (r, c) => { if (!c) return r;
    const left = Math.max(r.left, c.left), right = Math.min(r.right, c.right);
    const top = Math.max(r.top, c.top), bottom = Math.min(r.bottom, c.bottom);
    return {left, right, top, bottom, width: right - left, height: bottom - top}; };
  // painted at all: a size, and no ancestor (up to the figure) hidden or transparent
  const painted = (el, stop) => {
    const r = box(el), thin = el.tagName === 'path' || el.tagName === 'line';  // a flat line
    if (!(thin ? r.width > 0 || r.height > 0 : r.width > 0 && r.height > 0)) return false;
    for (let e = el; e && e !== stop; e = e.parentElement) {
      const st = getComputedStyle(e);
      if (st.display === 'none' || st.visibility === 'hidden' || +st.opacity === 0) return false;
      if (e.getAttribute && e.getAttribute('display') === 'none') return false;
    }
    return true;
  };
  const figTitle = (fig) => short((fig.querySelector('.mainheading') || {}).textContent) ||
                            'untitled figure';
  const plotArea = (fig) => { const p = fig.querySelector('.plotarea_background, .plotarea_events');
                              return p ? box(p) : null; };

  // -- maths -------------------------------------------------------------------------------
  const markdownText = (md) => {
    const walker = document.createTreeWalker(md, NodeFilter.SHOW_TEXT, {acceptNode: (n) =>
      n.parentElement.closest('mjx-container, .MathJax, code, pre, kbd, script, style')
        ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
    let text = '';
    while (walker.nextNode()) text += walker.currentNode.nodeValue;
    return text;
  };
  const mathProblems = (root) => {
    const out = [];
    const all = root.matches && root.matches(MARKDOWN) ? [root]
                                                        : Array.from(root.querySelectorAll(MARKDOWN));
    const mds = all.filter((md) => !all.some((o) => o !== md && o.contains(md)));  // outermost
    for (const md of mds) {
      const where = short(md.textContent, 40);
      for (const e of md.querySelectorAll('mjx-merror, .MathJax_Error'))
        out.push(`MathJax error "${short(e.getAttribute('data-mjx-error') || e.textContent, 80)}"` +
                 ` in markdown "${where}"`);
      const text = markdownText(md), m = text.match(RAW_TEX);
      if (m) out.push(`raw TeX "${m[0]}" in markdown: ...${short(text.slice(Math.max(m.index - 40, 0), m.index + 30), 80)}...`);
    }
    // maths typeset anywhere else (widget HTMLMath, labels): MathJax errors count too
    for (const e of root.querySelectorAll('mjx-merror, .MathJax_Error'))
      if (!mds.some((md) => md.contains(e)))
        out.push(`MathJax error "${short(e.getAttribute('data-mjx-error') || e.textContent, 80)}"` +
                 ` in "${short((e.closest('.jupyter-widgets, .jp-OutputArea-output') || e).textContent, 40)}"`);
    return out;
  };

  // -- figures: overlapping texts, legends over ticks or data ------------------------------
  const figureTexts = (fig) => {
    const area = plotArea(fig), out = [];
    for (const t of fig.querySelectorAll('svg text')) {
      if (!short(t.textContent) || !painted(t, fig)) continue;
      const st = getComputedStyle(t);
      if (st.fill === 'none' && st.stroke === 'none') continue;
      if (+st.fillOpacity === 0 && (st.stroke === 'none' || +st.strokeOpacity === 0)) continue;
      const clipped = t.closest('g[clip-path]');
      const r = clipped ? clipTo(box(t), area) : box(t);
      if (r.width > 0.5 && r.height > 0.5) out.push([t, r]);
    }
    return out;
  };
  const textOverlaps = (fig) => {
    const texts = figureTexts(fig), out = [];
    for (let i = 0; i < texts.length; i++)
      for (let j = i + 1; j < texts.length; j++) {
        const [a, ra] = texts[i], [b, rb] = texts[j];
        if (a.contains(b) || b.contains(a)) continue;
        if (overlap(ra, rb, TOL)) {
          const [w, h] = inter(ra, rb);
          out.push(`"${figTitle(fig)}": text "${short(a.textContent, 30)}" overlaps ` +
                   `"${short(b.textContent, 30)}" (${w.toFixed(0)}x${h.toFixed(0)} px)`);
        }
      }
    return out;
  };
  const legendBox = (fig) => {
    let r = null;
    for (const g of fig.querySelectorAll('.g_legend')) {
      for (const e of g.querySelectorAll('rect, text, path, line, circle')) {
        if (!painted(e, fig)) continue;
        const b = box(e);
        r = r ? {left: Math.min(r.left, b.left), top: Math.min(r.top, b.top),
                 right: Math.max(r.right, b.right), bottom: Math.max(r.bottom, b.bottom)} : b;
      }
    }
    return r && {left: r.left, top: r.top, right: r.right, bottom: r.bottom,
                 width: r.right - r.left, height: r.bottom - r.top};
  };
  const pathPoints = (p, n) => {
    let len = 0; try { len = p.getTotalLength(); } catch (e) { return []; }
    const m = p.getScreenCTM(); if (!m || !(len > 0)) return [];
    const pts = [];
    for (let i = 0; i <= n; i++) {
      const q = p.getPointAtLength(len * i / n);
      pts.push([m.a * q.x + m.c * q.y + m.e, m.b * q.x + m.d * q.y + m.f]);
    }
    return pts;
  };
  const legendProblems = (fig) => {
    const lb = legendBox(fig); if (!lb) return [];
    const out = [], title = figTitle(fig), area = plotArea(fig);
    const inner = {left: lb.left + 1, right: lb.right - 1, top: lb.top + 1, bottom: lb.bottom - 1};
    for (const t of fig.querySelectorAll('.axis text, g.tick text'))
      if (short(t.textContent) && painted(t, fig) && overlap(box(t), lb, 1))
        { out.push(`"${title}": legend covers tick label "${short(t.textContent, 20)}"`); break; }
    let hits = 0, first = '';
    for (const g of fig.querySelectorAll('svg.svg-figure g[clip-path]')) {
      for (const s of g.querySelectorAll('rect, circle, path, text, polygon')) {
        if (s.classList.contains('zeroLine') || !painted(s, fig)) continue;
        let hit = false;
        if (s.tagName === 'path' && !/\bdot\b/.test(s.getAttribute('class') || '')) {
          hit = pathPoints(s, 80).some(([x, y]) => x > inner.left && x < inner.right &&
                                                    y > inner.top && y < inner.bottom);
        } else {
          hit = overlap(clipTo(box(s), area), inner, 0.5);
        }
        if (hit) { hits++; if (!first) first = s.tagName === 'text' ? `label "${short(s.textContent, 20)}"`
                                                                    : `a ${s.tagName}`; }
      }
    }
    if (hits) out.push(`"${title}": legend covers data (${first}${hits > 1 ? ` and ${hits - 1} more` : ''})`);
    return out;
  };

  // -- choice groups --------------------------------------------------------------------------
  const choiceProblems = (root) => {
    const out = [];
    const groups = root.querySelectorAll('.widget-radio-box, .widget-toggle-buttons, [role=radiogroup]');
    for (const g of groups) {
      if (!painted(g, null)) continue;
      const items = Array.from(g.querySelectorAll(
          ':scope > label, :scope > button, :scope > .widget-toggle-button, :scope > [role=radio], ' +
          ':scope > div > label, :scope > div > button'))
          .filter((e) => painted(e, null));
      for (let i = 0; i < items.length; i++)
        for (let j = i + 1; j < items.length; j++)
          if (overlap(box(items[i]), box(items[j]), 1))
            out.push(`choices overlap: "${short(items[i].textContent, 40)}" / "${short(items[j].textContent, 40)}"`);
      for (const it of items) {
        if (it.scrollWidth > it.clientWidth + 1 && getComputedStyle(it).overflowX !== 'visible')
          out.push(`choice cut: "${short(it.textContent, 60)}" (${it.scrollWidth} px of text in ${it.clientWidth} px)`);
        it.scrollIntoView({block: 'center', inline: 'nearest'});
        const r = box(it), hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        if (hit && !it.contains(hit) && !hit.contains(it))
          out.push(`a click on choice "${short(it.textContent, 40)}" lands on ` +
                   `${hit.tagName.toLowerCase()} "${short(hit.textContent, 30)}"`);
      }
    }
    return out;
  };

  // -- links ----------------------------------------------------------------------------------
  const linksIn = (root) => Array.from(root.querySelectorAll(
      `${MARKDOWN.split(',').map((s) => s + ' a[href]').join(',')}, ` +
      '.jp-OutputArea-output a[href], .widget-html a[href], .widget-htmlmath a[href]'))
      .map((a) => ({raw: a.getAttribute('href'), href: a.href, text: short(a.textContent, 40)}));
  // JupyterLab rewrites a relative href to its /files/ URL asynchronously: wait for that
  const unresolved = (root) => Array.from(root.querySelectorAll(
      MARKDOWN.split(',').map((s) => s + ' a[href]').join(',')))
      .map((a) => ({raw: a.getAttribute('href')})).filter((l) =>
      !/^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|\/\/|#)/.test(l.raw) && !/\/files\//.test(l.raw)).length;

  const inspect = (root) => {
    const out = {maths: mathProblems(root), overlaps: [], legends: [], choices: choiceProblems(root),
                 links: linksIn(root), counts: {markdown: root.querySelectorAll(MARKDOWN).length,
                   figures: 0, texts: 0, legends: 0,
                   choiceGroups: root.querySelectorAll(
                     '.widget-radio-box, .widget-toggle-buttons, [role=radiogroup]').length}};
    const figs = root.matches && root.matches('.bqplot.figure') ? [root]
                 : Array.from(root.querySelectorAll('.bqplot.figure'));
    for (const fig of figs) {
      if (!painted(fig, null)) continue;
      out.counts.figures += 1;
      out.counts.texts += figureTexts(fig).length;
      out.counts.legends += legendBox(fig) ? 1 : 0;
      out.overlaps.push(...textOverlaps(fig));
      out.legends.push(...legendProblems(fig));
    }
    out.counts.links = out.links.length;
    return out;
  };
  const frames = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  // Wait (polling) until a root's markdown is typeset and its links resolved, or time is up.
  const settled = async (root, timeoutMs) => {
    const end = performance.now() + timeoutMs;
    while (performance.now() < end) {
      if (mathProblems(root).length === 0 && unresolved(root) === 0) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  };
  window.__cmlRender = {
    inspect, settled, frames, mathProblems, unresolved,
    // JupyterLab: bring each cell on screen in turn (a windowed notebook lays out only what it
    // shows), let it settle, and inspect it there.
    labCells: async (timeoutMs) => {
      const nb = window.jupyterapp.shell.currentWidget.content;
      const merged = {maths: [], overlaps: [], legends: [], choices: [], links: [], counts: {}};
      // a cell that never settles waits timeoutMs; all of them together at most twice that
      const end = performance.now() + 2 * timeoutMs;
      for (let i = 0; i < nb.widgets.length; i++) {
        const cell = nb.widgets[i];
        cell.node.scrollIntoView({block: 'start'});
        await frames();
        if (cell.model.type === 'markdown' || cell.node.querySelector(MARKDOWN))
          await settled(cell.node, Math.max(500, Math.min(timeoutMs, end - performance.now())));
        const got = inspect(cell.node);
        for (const [k, n] of Object.entries(got.counts)) merged.counts[k] = (merged.counts[k] || 0) + n;
        for (const k of Object.keys(merged)) if (k !== 'counts')
          merged[k].push(...got[k].map((p) => typeof p === 'string' ? `cell ${i}: ${p}` : {...p, cell: i}));
      }
      nb.node.querySelector('.jp-WindowedPanel-outer')?.scrollTo(0, 0);
      return merged;
    },
    page: async (timeoutMs) => { await settled(document.body, timeoutMs); return inspect(document.body); },
    // JupyterLab's current main-area widget (e.g. a Markdown preview)
    current: async (timeoutMs) => { const n = window.jupyterapp.shell.currentWidget.node;
                                    await settled(n, timeoutMs); return inspect(n); },
  };
})();
""" % {"tol": OVERLAP_TOLERANCE_PX}


def inspect_lab(page, timeout_ms: int = MATH_TIMEOUT_MS) -> dict:
    """Every cell of the current JupyterLab notebook, brought on screen in turn."""
    page.evaluate(JS_RENDER)
    return page.evaluate("(t) => __cmlRender.labCells(t)", timeout_ms)


def inspect_page(page, timeout_ms: int = MATH_TIMEOUT_MS) -> dict:
    """The whole page (Voilà): call it with a viewport tall enough to show the app."""
    page.evaluate(JS_RENDER)
    return page.evaluate("(t) => __cmlRender.page(t)", timeout_ms)


def inspect_current(page, timeout_ms: int = MATH_TIMEOUT_MS) -> dict:
    """JupyterLab's current main-area widget (a Markdown preview, for instance)."""
    page.evaluate(JS_RENDER)
    return page.evaluate("(t) => __cmlRender.current(t)", timeout_ms)


def link_problems(found: list[dict], base: Path, served_root: Path, origin: str = "") -> list[str]:
    """Resolve the links ``inspect_*`` collected (same-page ``#fragments``: see
    :func:`fragment_problems`).

    ``served_root`` is the copy of ``lessons/`` the server serves and ``base`` the folder of the
    page's notebook in it. JupyterLab rewrites a relative link into its own
    ``<origin>/files/<path>`` URL: that path is taken under ``served_root``. A raw relative href
    (Voilà, widget HTML) is relative to ``base``. Other absolute URLs are external: skipped.
    """
    out = []
    for link in found:
        raw, href = link["raw"] or "", link["href"] or ""
        if raw.startswith("#"):
            continue
        parts = urlsplit(href)
        if links._EXTERNAL.match(raw):
            if not (origin and href.startswith(origin) and "/files/" in parts.path):
                continue                                  # http(s), data:, mailto: ...
            target = unquote(parts.path.split("/files/", 1)[1])
            if parts.fragment:
                target += "#" + parts.fragment
            why = links.check(served_root, target, served_root)
        else:
            why = links.check(base, raw, served_root)
        if why:
            where = f"cell {link['cell']}: " if "cell" in link else ""
            out.append(f"{where}link \"{link['text']}\" -> {why}")
    return out


def fragment_problems(found: list[dict], notebook: Path) -> list[str]:
    """Same-page ``#fragment`` links: an anchor JupyterLab gives the notebook's headings, or an
    explicit id."""
    lab, _ = links.anchors(notebook)
    return [f"cell {link.get('cell', '?')}: link \"{link['text']}\" -> {link['raw']}: no such "
            f"anchor in {notebook.name}"
            for link in found if (link["raw"] or "").startswith("#")
            and unquote(link["raw"][1:]) not in lab]


def counts(result: dict) -> str:
    """What was looked at, e.g. "markdown 41, figures 6, texts 212, legends 2, ..."."""
    return ", ".join(f"{k} {v}" for k, v in result["counts"].items())


def summary(result: dict, base: Path, served_root: Path, notebook: Path,
            origin: str = "") -> dict[str, list]:
    """Problems by check name (each list empty when the page is right)."""
    return {
        "maths": result["maths"],
        "text overlap": result["overlaps"],
        "legend": result["legends"],
        "choices": result["choices"],
        "links": (link_problems(result["links"], base, served_root, origin)
                  + fragment_problems(result["links"], notebook)),
    }


def format_problems(name: str, problems: dict[str, list]) -> str:
    """One line per distinct problem (repeats counted), at most 15 per check."""
    lines = [f"{name}: what the learner sees is wrong"]
    for check, found in problems.items():
        counts: dict[str, int] = {}
        for p in found:
            counts[p] = counts.get(p, 0) + 1
        for p, n in list(counts.items())[:15]:
            lines.append(f"  [{check}] {p}" + (f"  (x{n})" if n > 1 else ""))
        if len(counts) > 15:
            lines.append(f"  [{check}] ... and {len(counts) - 15} more distinct")
    return "\n".join(lines)
