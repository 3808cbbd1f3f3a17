"""Place text labels next to chart points so that no two overlap (and none covers a point).

bqplot's ``Label`` mark anchors each text at a data position with one alignment and one pixel
offset for all labels. To keep labels apart, we choose for each label an anchor position in data
coordinates: candidates around its point (right, left, above, below, then further out) are tried
in pixel space on a plot of an assumed *minimum* size; the first one that overlaps no label placed
before it, no data point and stays inside the plot wins. The figure is full width, so on screen the
plot is at least that wide: points are then further apart in pixels while text keeps its size, so
labels that are apart on the assumed plot stay apart.
"""
from __future__ import annotations

import numpy as np

CHAR_PX = 7.2          # average width of a character at 12 px (Label's default font size)
LINE_PX = 14.0         # text height
EDGE_PX = 6.0          # a label's box stays this far inside the plot's top and bottom
GAP_PX = 7.0           # gap between a point and its label


def text_width(text: str) -> float:
    """Pixel width of ``text`` at 12 px (:data:`CHAR_PX` per character, 4 px of margin).

    >>> text_width("today")
    40.0
    """
    return CHAR_PX * len(text) + 4.0


def _candidates(w: float, h: float):
    """Offsets (dx, dy) of a label box's left-baseline corner from its point, best first (y
    down), with the side the text hangs from: "start" (right of the point), "end" (left of it)
    or "middle" (centred above or below)."""
    out = [(GAP_PX, h / 2 - 2, "start"), (-GAP_PX - w, h / 2 - 2, "end"),
           (-w / 2, -GAP_PX, "middle"), (-w / 2, GAP_PX + h, "middle")]
    for k in range(1, 8):                              # then step further up and down
        for dy in (-k * h, k * h):
            out += [(GAP_PX, h / 2 - 2 + dy, "start"), (-GAP_PX - w, h / 2 - 2 + dy, "end")]
    return out


def _overlaps(box, boxes) -> bool:
    x0, y0, x1, y1 = box
    return any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in boxes)


def place_labels(x, y, texts, x_domain, y_domain, width_px: float, height_px: float,
                 candidates=None):
    """Where to write ``texts`` next to points ``(x, y)`` so that no two overlap.

    Parameters
    ----------
    x, y : array_like
        The points, in data units.
    texts : list of str
    x_domain, y_domain : (lo, hi)
        The scales' domains.
    width_px, height_px : float
        The plot area's (assumed minimum) size in pixels.
    candidates : callable (w, h) -> list of (dx, dy, align), optional

    Returns
    -------
    (ax, ay, align, boxes, far) : per label, its anchor in data units (the text's left end,
    right end or centre according to ``align`` in {"start", "end", "middle"}, at its baseline),
    its box ``(x0, y0, x1, y1)`` in pixels (y down) on the assumed plot, and whether it had to
    move away from its point (then a leader line helps). A label that fits nowhere keeps the
    first candidate.
    """
    (xl, xh), (yl, yh) = x_domain, y_domain
    sx = width_px / (xh - xl) if xh > xl else 1.0
    sy = height_px / (yh - yl) if yh > yl else 1.0
    px = (np.asarray(x, dtype=float) - xl) * sx
    py = (yh - np.asarray(y, dtype=float)) * sy
    dots = [(a - 4, b - 4, a + 4, b + 4) for a, b in zip(px, py)]
    placed = []
    n = len(texts)
    boxes, aligns, far = [None] * n, [""] * n, [False] * n
    for i in np.argsort(py, kind="stable"):            # top of the plot first
        w, h = text_width(texts[i]), LINE_PX
        options = (candidates or _candidates)(w, h)
        choice = None
        for k, (dx, dy, align) in enumerate(options):
            bx, by = px[i] + dx, py[i] + dy
            box = (bx, by - h, bx + w, by)
            # EDGE_PX clear of the plot's edges, where axis lines and tick labels are drawn
            inside = (box[0] >= 0 and box[2] <= width_px and box[1] >= EDGE_PX
                      and box[3] <= height_px - EDGE_PX)
            if inside and not _overlaps(box, placed) and not _overlaps(box, dots):
                choice, far[i] = (box, align), k >= 4
                break
        if choice is None:
            dx, dy, align = options[0]
            bx, by = px[i] + dx, py[i] + dy
            choice = ((bx, by - h, bx + w, by), align)
        placed.append(choice[0])
        boxes[i], aligns[i] = choice
    edge = {"start": 0, "end": 2}
    ax = np.array([xl + (b[edge[a]] if a in edge else (b[0] + b[2]) / 2) / sx
                   for b, a in zip(boxes, aligns)])
    ay = np.array([yh - b[3] / sy for b in boxes])
    return ax, ay, aligns, boxes, far


def right_of_line_ends(w: float, h: float):
    """Candidates for a label at the end of a line: to the right, stepping up or down."""
    out = [(GAP_PX, h / 2 - 2, "start")]
    for k in range(1, 10):
        out += [(GAP_PX, h / 2 - 2 - k * h / 2, "start"), (GAP_PX, h / 2 - 2 + k * h / 2, "start")]
    return out


class LabelSet:
    """Labels next to points, kept apart: three bqplot ``Label`` marks (text hanging right of,
    left of, or centred on its anchor) and one ``Lines`` mark of leader lines for labels that had
    to move away from their point. Built once; :meth:`update` moves them inside ``hold_sync``.

    Parameters
    ----------
    scales : dict
        The bqplot scales ``{"x": ..., "y": ...}`` of the figure the labels are drawn on.
    colour : str
        Default text colour (the theme's text colour).
    size : int
        Font size in px.

    Attributes
    ----------
    texts : dict of str to bqplot.Label
        The text marks by alignment (``"start"``, ``"end"``, ``"middle"``).
    leaders : bqplot.Lines
        Leader lines from a point to its label when the label had to move away.
    placed : list of tuple
        After :meth:`update`: ``(text, x, y, align, box)`` per label, ``box`` in pixels of the
        assumed plot (y down).
    """

    ALIGNS = ("start", "end", "middle")

    def __init__(self, scales: dict, colour: str = "var(--jp-ui-font-color1)", size: int = 12):
        from bqplot import Label, Lines
        self._colour = colour
        self.texts = {a: Label(x=[], y=[], text=[], scales=scales, colors=[colour],
                               default_size=size, align=a) for a in self.ALIGNS}
        self.leaders = Lines(x=np.zeros((1, 2)), y=np.zeros((1, 2)), scales=scales,
                             colors=["var(--jp-ui-font-color2)"], stroke_width=1,
                             visible=False)
        self.placed: list = []

    @property
    def marks(self) -> list:
        """The marks to put in the figure: the leader lines, then the three text marks."""
        return [self.leaders, *self.texts.values()]

    def update(self, x, y, texts, x_domain, y_domain, width_px, height_px, colours=None,
               candidates=None) -> None:
        """Place ``texts`` next to points ``(x, y)`` (see :func:`place_labels`) and move the
        marks there, one message per mark; ``colours`` per label (default ``colour``)."""
        texts = list(texts)
        ax, ay, aligns, boxes, far = place_labels(x, y, texts, x_domain, y_domain, width_px,
                                                  height_px, candidates)
        colours = list(colours) if colours is not None else [self._colour] * len(texts)
        self.placed = list(zip(texts, ax, ay, aligns, boxes))
        for a, mark in self.texts.items():
            idx = [i for i, al in enumerate(aligns) if al == a]
            with mark.hold_sync():
                mark.x, mark.y = ax[idx], ay[idx]
                mark.text = [texts[i] for i in idx]
                mark.colors = [colours[i] for i in idx] or [self._colour]
        # leader: from the point to the nearest point of the label's box (data units)
        (xl, xh), (yl, yh) = x_domain, y_domain
        sx, sy = width_px / (xh - xl), height_px / (yh - yl)
        lx, ly = [], []
        for i in [i for i, f in enumerate(far) if f]:
            b = boxes[i]
            px, py = (float(x[i]) - xl) * sx, (yh - float(y[i])) * sy
            cx, cy = min(max(px, b[0]), b[2]), min(max(py, b[1]), b[3])
            lx.append([float(x[i]), xl + cx / sx])
            ly.append([float(y[i]), yh - cy / sy])
        with self.leaders.hold_sync():
            self.leaders.x = np.array(lx) if lx else np.zeros((1, 2))
            self.leaders.y = np.array(ly) if ly else np.zeros((1, 2))
            self.leaders.visible = bool(lx)
