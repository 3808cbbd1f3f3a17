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
GAP_PX = 7.0           # gap between a point and its label


def text_width(text: str) -> float:
    return CHAR_PX * len(text) + 4.0


def _candidates(w: float, h: float):
    """Offsets (dx, dy) of a label's left-baseline anchor from its point, best first (y down)."""
    near = [(GAP_PX, h / 2 - 2), (-GAP_PX - w, h / 2 - 2), (-w / 2, -GAP_PX),
            (-w / 2, GAP_PX + h)]
    out = list(near)
    for k in range(1, 8):                              # then step further up and down
        for dy in (-k * h, k * h):
            out += [(GAP_PX, h / 2 - 2 + dy), (-GAP_PX - w, h / 2 - 2 + dy)]
    return out


def _overlaps(box, boxes) -> bool:
    x0, y0, x1, y1 = box
    return any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in boxes)


def place_labels(x, y, texts, x_domain, y_domain, width_px: float, height_px: float,
                 candidates=None):
    """Anchor positions (data units) for ``texts`` at points ``(x, y)``, and their pixel boxes.

    Parameters
    ----------
    x, y : array_like
        The points, in data units.
    texts : list of str
    x_domain, y_domain : (lo, hi)
        The scales' domains.
    width_px, height_px : float
        The plot area's (assumed minimum) size in pixels.
    candidates : callable (w, h) -> list of (dx, dy), optional

    Returns
    -------
    (ax, ay, boxes) : anchor x and y in data units (left end of the text, baseline), and each
    label's box ``(x0, y0, x1, y1)`` in pixels (y down). A label that fits nowhere keeps its first
    candidate (the caller may shorten or drop it).
    """
    (xl, xh), (yl, yh) = x_domain, y_domain
    sx = width_px / (xh - xl) if xh > xl else 1.0
    sy = height_px / (yh - yl) if yh > yl else 1.0
    px = (np.asarray(x, dtype=float) - xl) * sx
    py = (yh - np.asarray(y, dtype=float)) * sy
    dots = [(a - 4, b - 4, a + 4, b + 4) for a, b in zip(px, py)]
    placed, ax, ay = [], [], []
    order = np.argsort(py, kind="stable")              # top of the plot first
    result = [None] * len(texts)
    for i in order:
        w, h = text_width(texts[i]), LINE_PX
        options = (candidates or _candidates)(w, h)
        choice = None
        for dx, dy in options:
            bx, by = px[i] + dx, py[i] + dy
            box = (bx, by - h, bx + w, by)
            inside = box[0] >= 0 and box[2] <= width_px and box[1] >= 0 and box[3] <= height_px
            if inside and not _overlaps(box, placed) and not _overlaps(box, dots):
                choice = box
                break
        if choice is None:
            dx, dy = options[0]
            bx, by = px[i] + dx, py[i] + dy
            choice = (bx, by - h, bx + w, by)
        placed.append(choice)
        result[i] = choice
    ax = np.array([xl + b[0] / sx for b in result]) if result else np.array([])
    ay = np.array([yh - b[3] / sy for b in result]) if result else np.array([])
    return ax, ay, result


def right_of_line_ends(w: float, h: float):
    """Candidates for a label at the end of a line: to the right, stepping up or down."""
    out = [(GAP_PX, h / 2 - 2)]
    for k in range(1, 10):
        out += [(GAP_PX, h / 2 - 2 - k * h / 2), (GAP_PX, h / 2 - 2 + k * h / 2)]
    return out
