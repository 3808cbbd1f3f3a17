import numpy as np

from widgets import _labels


def overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_labels_of_crowded_points_are_apart_inside_and_off_the_points():
    x = np.array([0.50, 0.51, 0.52, 0.50, 0.95])
    y = np.array([10.0, 10.2, 9.9, 10.1, 1.0])
    texts = ["today's rules", "maintenance x2", "haircut 20 %", "my policy", "edge case label"]
    ax, ay, aligns, boxes, far = _labels.place_labels(x, y, texts, (0, 1), (0, 12), 460, 250)
    px, py = x / 1 * 460, (12 - y) / 12 * 250
    for i, b in enumerate(boxes):
        assert 0 <= b[0] and b[2] <= 460 and 0 <= b[1] and b[3] <= 250
        for j in range(i):
            assert not overlap(b, boxes[j])
        for k in range(len(x)):
            assert not overlap(b, (px[k] - 4, py[k] - 4, px[k] + 4, py[k] + 4))
    assert set(aligns) <= {"start", "end", "middle"}
    assert any(far)                               # crowded: some labels moved away
    # anchors are the text's left end / right end / centre of each box, in data units
    for a, al, b in zip(ax, aligns, boxes):
        edge = {"start": b[0], "end": b[2], "middle": (b[0] + b[2]) / 2}[al]
        assert a * 460 == np.float64(edge) or abs(a * 460 - edge) < 1e-9


def test_label_set_draws_leaders_only_for_moved_labels():
    from bqplot import LinearScale
    ls = _labels.LabelSet({"x": LinearScale(), "y": LinearScale()})
    ls.update([0.2, 0.8], [0.2, 0.8], ["a", "b"], (0, 1), (0, 1), 460, 250)
    assert not ls.leaders.visible
    assert sum(len(m.text) for m in ls.texts.values()) == 2
    ls.update([0.5] * 6, [0.5] * 6, ["one", "two", "three", "four", "five", "six"], (0, 1),
              (0, 1), 460, 250)
    # a few labels fit next to the point; the others move away, each with a leader
    leaders = np.atleast_2d(np.array(ls.leaders.x, dtype=float))
    assert ls.leaders.visible and 2 <= leaders.shape[0] <= 4 and leaders.shape[1] == 2
    assert np.all(leaders[:, 0] == 0.5)                 # each leader starts at the point
