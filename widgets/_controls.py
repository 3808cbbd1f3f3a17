"""Accessible controls: sliders and a Play button a screen reader can name and read.

ipywidgets 8's sliders draw a noUiSlider handle (``div[role=slider]``) that no widget attribute
reaches: its visible description is a ``<label>`` tied to nothing, so the handle has no
accessible name (axe-core ``aria-input-field-name``), and its ``aria-valuetext`` is the raw
float (``-0.04999999999999999`` for -5 %). ipywidgets' ``Play`` is two icon-only buttons
(axe ``button-name``). Neither can be fixed from the widget model, so these controls are small
custom widgets built the supported way, with ``anywidget`` (an ES module and a stylesheet that
the widget itself carries; nothing is injected into the page):

* :class:`Slider` / :class:`IntSlider` / :class:`SelectionSlider`: a native
  ``<input type="range">`` named by its visible ``<label for=...>`` (the description), with
  ``aria-valuetext`` in words of the unit ("-5 %", "30,000 USD", "30x") computed in the browser
  on every key press (so it follows the keys before the kernel answers) and, identically, in
  Python (:attr:`Slider.value_text`). The readout is a text box named "<label>: type a
  value": a typed value and Enter set the slider ("-12" or "-12 %" on a percent slider;
  "50" on the depth slider picks the nearest option). Arrow keys, Page Up/Down, Home and End
  work as on any range input (the input carries ``data-lm-suppress-shortcuts``, Lumino's switch that keeps
  JupyterLab's command-mode arrow keys from taking them); the value the browser reports
  (``aria-valuenow``) is the input's own.
* :class:`Play`: one text button, "Play" / "Pause", that steps ``value`` from ``min`` to
  ``max`` every ``interval`` ms (``jslink`` it to a slider, as with ipywidgets' ``Play``).

The traits mirror ipywidgets' (``value``, ``min``, ``max``, ``step``, ``description``,
``tooltip``, ``readout_format``, ``continuous_update``, ``disabled``; ``options`` for the
selection slider), so components use them as they used the ipywidgets controls.
"""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import anywidget
import numpy as np
import traitlets as T

# d3-format subset the components use: ".0%", ".2f", ",.1f", "$,.0f"; "d" for integers.
_FORMAT = re.compile(r"^(?P<cur>\$)?(?P<group>,)?\.(?P<d>\d+)(?P<type>[f%])$")


def value_spec(fmt: str) -> dict:
    """How a slider writes its value: ``scale``, ``decimals``, ``grouping``, ``suffix``.

    ``%`` formats read "-5 %", ``$`` formats "30,000 USD", fixed formats "0.35".

    >>> value_spec(".0%")["suffix"], value_spec("$,.0f")["suffix"], value_spec("d")["decimals"]
    (' %', ' USD', 0)
    """
    if fmt in ("d", ",d"):
        return {"scale": 1, "decimals": 0, "grouping": fmt == ",d", "suffix": ""}
    m = _FORMAT.match(fmt or "")
    if m is None:
        raise ValueError(f"readout_format {fmt!r}: use one of '.Nf', ',.Nf', '.N%', '$,.Nf', 'd'")
    pct, cur = m["type"] == "%", bool(m["cur"])
    return {"scale": 100 if pct else 1, "decimals": int(m["d"]),
            "grouping": bool(m["group"]) or cur,
            "suffix": " %" if pct else (" USD" if cur else "")}


def format_value(value: float, spec: dict) -> str:
    """``value`` in words of its unit, exactly as the browser writes ``aria-valuetext``.

    >>> format_value(-0.04999999999999999, value_spec(".0%"))
    '-5 %'
    >>> format_value(30_000.0, value_spec("$,.0f")), format_value(-0.001, value_spec(".2f"))
    ('30,000 USD', '0.00')
    """
    v = float(value)
    if not np.isfinite(v):
        return "n/a"
    d = int(spec["decimals"])
    # JavaScript's toFixed: the exact binary value, ties away from zero (Python's round()
    # would send 0.5 to 0)
    x = Decimal(v * spec["scale"]).quantize(Decimal(1).scaleb(-d), rounding=ROUND_HALF_UP)
    if x == 0:
        x = abs(x)                                  # no "-0"
    text = f"{x:,.{d}f}" if spec["grouping"] else f"{x:.{d}f}"
    return text + spec["suffix"]


def spoken(label: str) -> str:
    """An option label as ``aria-valuetext``: "30×" reads "30x"."""
    return label.replace("×", "x")


#: The sliders' browser view (an ES module anywidget loads): a native range input named by
#: its ``<label for>``, ``aria-valuetext`` in the unit's words, a typed-value readout.
SLIDER_ESM = r"""
// anywidget may evaluate this module once per widget, so a module-level counter is not
// unique: two sliders with one id would each take the other's label as well.
const uniqueId = () => 'cml-slider-' + (globalThis.crypto && crypto.randomUUID
  ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`);
function fmt(v, s) {
  if (!Number.isFinite(v)) return 'n/a';
  const d = s.decimals;
  let x = Number((v * s.scale).toFixed(d));
  if (x === 0) x = 0;                                  // no "-0"
  return x.toLocaleString('en-US', {minimumFractionDigits: d, maximumFractionDigits: d,
                                    useGrouping: !!s.grouping}) + s.suffix;
}
function render({ model, el }) {
  const id = uniqueId();
  el.classList.add('cml-slider');
  const label = document.createElement('label');
  label.className = 'cml-slider-label';
  label.htmlFor = id;
  const input = document.createElement('input');
  input.type = 'range';
  input.id = id;
  input.className = 'cml-slider-input';
  // JupyterLab (Lumino) takes arrow keys in command mode for moving between cells; this is
  // Lumino's own switch for "let this element keep its keys" (a range input is not
  // :read-write, so JupyterLab does not see it as an editor by itself).
  input.setAttribute('data-lm-suppress-shortcuts', 'true');
  // the readout is a text box too: type a value, Enter (Escape puts the shown value back)
  const readout = document.createElement('input');
  readout.type = 'text';
  readout.className = 'cml-slider-readout';
  readout.setAttribute('inputmode', 'decimal');
  el.append(label, input, readout);
  const labels = () => model.get('_labels') || [];
  const key = () => (labels().length ? 'index' : 'value');
  const text = (v) => (labels().length ? (labels()[Math.round(v)] || '')
                                       : fmt(v, model.get('_spec')));
  const spoken = (v) => (labels().length ? text(v).replace(/×/g, 'x') : text(v));
  const show = (v) => {
    if (document.activeElement !== readout) readout.value = text(v);
    input.setAttribute('aria-valuetext', spoken(v));
  };
  // a typed value: unit words, spaces and thousands separators dropped; "-5" on a percent
  // slider is -5 %; on a selection slider the nearest option (log scale: depth multiples)
  const typed = (raw) => {
    const n = Number(String(raw).replace(/[,\s%×x$]|USD/gi, ''));
    if (!Number.isFinite(n)) return null;
    const n_labels = labels().length;
    if (n_labels) {
      const opts = labels().map((l) => Number(l.replace(/[^0-9.eE+-]/g, '')));
      let best = 0;
      const dist = (o) => (o > 0 && n > 0 ? Math.abs(Math.log(o) - Math.log(n))
                                          : Math.abs(o - n));
      opts.forEach((o, i) => { if (dist(o) < dist(opts[best])) best = i; });
      return best;
    }
    const v = n / model.get('_spec').scale;
    return Math.min(Math.max(v, model.get('min')), model.get('max'));
  };
  const commit = () => {
    const v = typed(readout.value);
    if (v === null || v === model.get(key())) { readout.value = text(model.get(key())); return; }
    model.set(key(), v); model.save_changes();
    readout.value = text(v);
    paint();
  };
  readout.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); commit(); }
    if (e.key === 'Escape') { readout.value = text(model.get(key())); }
  });
  readout.addEventListener('change', commit);
  const paint = () => {
    const n = labels().length;
    label.textContent = model.get('description');
    label.style.display = model.get('description') ? '' : 'none';
    readout.setAttribute('aria-label', `${model.get('description')}: type a value`);
    readout.disabled = !!model.get('disabled');
    input.title = model.get('tooltip') || '';
    input.min = String(n ? 0 : model.get('min'));
    input.max = String(n ? n - 1 : model.get('max'));
    input.step = String(n ? 1 : model.get('step'));
    input.disabled = !!model.get('disabled');
    input.value = String(model.get(key()));
    show(model.get(key()));
  };
  const read = () => Number(Number(input.value).toPrecision(12));
  const send = () => { model.set(key(), read()); model.save_changes(); };
  input.addEventListener('input', () => {
    show(read());
    if (model.get('continuous_update')) send();
  });
  input.addEventListener('change', send);
  const names = ['value', 'index', 'min', 'max', 'step', 'description', 'tooltip', 'disabled',
                 '_spec', '_labels'];
  for (const n of names) model.on(`change:${n}`, paint);
  paint();
  return () => { for (const n of names) model.off(`change:${n}`, paint); };
}
export default { render };
"""

#: The sliders' stylesheet (theme variables only).
SLIDER_CSS = r"""
.cml-slider { display: flex; align-items: center; gap: 8px; min-height: 28px;
  font-size: var(--jp-widgets-font-size, 13px); color: var(--jp-ui-font-color1); }
.cml-slider-label { flex: 0 0 auto; white-space: nowrap; color: var(--jp-ui-font-color1); }
.cml-slider-input { flex: 1 1 auto; min-width: 120px; margin: 0;
  accent-color: var(--jp-brand-color1); }
.cml-slider-input:focus-visible { outline: 2px solid var(--jp-brand-color1);
  outline-offset: 2px; }
.cml-slider-readout { flex: 0 0 auto; width: 7em; text-align: right; font: inherit;
  font-variant-numeric: tabular-nums; color: var(--jp-ui-font-color1);
  background: transparent; border: 1px solid transparent; border-radius: 2px;
  padding: 1px 4px; }
.cml-slider-readout:hover { border-color: var(--jp-border-color1); }
.cml-slider-readout:focus { border-color: var(--jp-brand-color1); outline: none;
  background: var(--jp-layout-color1); }
"""


class Slider(anywidget.AnyWidget):
    """A labelled float slider (``<input type=range>`` named by its description).

    Attributes
    ----------
    value, min, max, step : float
        As ``ipywidgets.FloatSlider``; ``value`` is clamped into ``[min, max]``.
    description : str
        The visible label, also the control's accessible name.
    readout_format : str
        ``".0%"``, ``".2f"``, ``",.1f"``, ``"$,.0f"``: the readout and ``aria-valuetext``.
    """

    _esm = SLIDER_ESM
    _css = SLIDER_CSS
    value = T.Float(0.0, help="The slider's value.").tag(sync=True)
    min = T.Float(0.0, help="Lowest value.").tag(sync=True)
    max = T.Float(1.0, help="Highest value.").tag(sync=True)
    step = T.Float(0.01, help="Step of one arrow key press.").tag(sync=True)
    description = T.Unicode("", help="Visible label and accessible name.").tag(sync=True)
    tooltip = T.Unicode("", help="Hover text.").tag(sync=True)
    readout_format = T.Unicode(".0%", help="How the value is written (d3-format subset).")
    continuous_update = T.Bool(True, help="Send values while dragging.").tag(sync=True)
    disabled = T.Bool(False, help="Greyed out, no input.").tag(sync=True)
    _spec = T.Dict(help="value_spec(readout_format), for the browser.").tag(sync=True)
    _labels = T.List(help="Option labels (selection sliders only).").tag(sync=True)

    def __init__(self, value=None, **kwargs):
        fmt = kwargs.pop("readout_format", self.readout_format)
        kwargs.pop("style", None)              # ipywidgets' description_width: not needed
        super().__init__(**kwargs)
        self.readout_format = fmt
        self._spec = value_spec(fmt)
        if value is not None:
            self.value = value

    @T.observe("readout_format")
    def _format_changed(self, change):
        self._spec = value_spec(change["new"])

    @T.validate("value")
    def _clamp(self, proposal):
        return min(max(proposal["value"], self.min), self.max)

    @T.observe("min", "max")
    def _range_changed(self, _change):
        clamped = min(max(self.value, self.min), self.max)
        if clamped != self.value:
            self.value = clamped

    @property
    def value_text(self) -> str:
        """What a screen reader hears (``aria-valuetext``): "-5 %", "30,000 USD"."""
        return format_value(self.value, self._spec)


class IntSlider(Slider):
    """:class:`Slider` over integers (``readout_format="d"``)."""

    value = T.Int(0, help="The slider's value.").tag(sync=True)
    min = T.Int(0, help="Lowest value.").tag(sync=True)
    max = T.Int(10, help="Highest value.").tag(sync=True)
    step = T.Int(1, help="Step of one arrow key press.").tag(sync=True)
    readout_format = T.Unicode("d", help="How the value is written.")

    def __init__(self, value=None, **kwargs):
        kwargs.setdefault("readout_format", "d")
        super().__init__(value=value, **kwargs)


class SelectionSlider(Slider):
    """A slider over ``options`` (``(label, value)`` pairs); it says the option's label
    ("30×" is read "30x")."""

    options = T.List(help="(label, value) pairs, in order.")
    index = T.Int(0, help="Position of the selected option.").tag(sync=True)
    value = T.Float(0.0, help="The selected option's value.")

    def __init__(self, options=(), value=None, **kwargs):
        kwargs.setdefault("readout_format", ".0f")
        super().__init__(**kwargs)
        self.options = [(str(lab), v) for lab, v in options]
        if value is not None:
            self.value = value

    @T.validate("value")
    def _clamp(self, proposal):
        values = [v for _, v in self.options]
        if proposal["value"] not in values:
            raise T.TraitError(f"Invalid selection: {proposal['value']!r} is not an option")
        return proposal["value"]

    @T.observe("options")
    def _options_changed(self, change):
        self._labels = [lab for lab, _ in change["new"]]
        values = [v for _, v in change["new"]]
        if self.value in values:
            self.index = values.index(self.value)
        elif values:
            self.value = values[min(self.index, len(values) - 1)]

    @T.observe("value")
    def _value_changed(self, change):
        values = [v for _, v in self.options]
        if change["new"] in values:
            self.index = values.index(change["new"])

    @T.observe("index")
    def _index_changed(self, change):
        if 0 <= change["new"] < len(self.options) and \
                self.value != self.options[change["new"]][1]:
            self.value = self.options[change["new"]][1]

    @property
    def label(self) -> str:
        """The selected option's label ("30×")."""
        return self.options[self.index][0] if self.options else ""

    @property
    def option_labels(self) -> list:
        """The option labels the browser shows, in order (synced to the view)."""
        return list(self._labels)

    @property
    def value_text(self) -> str:
        """What a screen reader hears: the option's label, "×" read as "x"."""
        return spoken(self.label)


#: The Play button's browser view: one named text button, "Play" / "Pause".
PLAY_ESM = r"""
function render({ model, el }) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'jupyter-button cml-play';
  const icon = document.createElement('i');
  icon.setAttribute('aria-hidden', 'true');
  const word = document.createElement('span');
  button.append(icon, word);
  el.append(button);
  let timer = null;
  const paint = () => {
    const on = timer !== null;
    icon.className = on ? 'fa fa-pause' : 'fa fa-play';
    word.textContent = on ? 'Pause' : (model.get('description') || 'Play');
    button.title = model.get('tooltip') || '';
    button.disabled = !!model.get('disabled');
  };
  const halt = () => { if (timer !== null) clearInterval(timer); timer = null; paint(); };
  const stop = () => { halt(); model.set('playing', false); model.save_changes(); };
  const tick = () => {
    const next = model.get('value') + model.get('step');
    if (next > model.get('max')) { stop(); return; }
    model.set('value', next); model.save_changes();
  };
  const start = () => {
    if (timer !== null) return;
    if (model.get('value') >= model.get('max')) {
      model.set('value', model.get('min')); model.save_changes();
    }
    timer = setInterval(tick, Math.max(50, model.get('interval')));
    paint();
  };
  button.addEventListener('click', () => {
    if (timer !== null) { stop(); return; }
    model.set('playing', true); model.save_changes(); start();
  });
  // the kernel may stop playback (a reset): playing = False
  model.on('change:playing', () => (model.get('playing') ? start() : halt()));
  for (const n of ['description', 'tooltip', 'disabled']) model.on(`change:${n}`, paint);
  paint();
  return () => { halt(); };
}
export default { render };
"""


class Play(anywidget.AnyWidget):
    """A "Play" / "Pause" text button stepping ``value`` from ``min`` to ``max`` every
    ``interval`` ms in the browser (like ``ipywidgets.Play``; ``jslink`` it to a slider).

    Attributes
    ----------
    value, min, max, step : int
        As ``ipywidgets.Play``.
    interval : int
        Milliseconds between steps.
    description : str
        The button's word while stopped (its accessible name), "Play" by default.
    playing : bool
        True while it plays; the kernel sets it False to stop playback.
    """

    _esm = PLAY_ESM
    value = T.Int(0, help="Current frame.").tag(sync=True)
    min = T.Int(0, help="First frame.").tag(sync=True)
    max = T.Int(0, help="Last frame.").tag(sync=True)
    step = T.Int(1, help="Frames per tick.").tag(sync=True)
    interval = T.Int(700, help="Milliseconds between ticks.").tag(sync=True)
    description = T.Unicode("Play", help="The button's word (its accessible name).").tag(
        sync=True)
    tooltip = T.Unicode("", help="Hover text.").tag(sync=True)
    disabled = T.Bool(False, help="Greyed out, no input.").tag(sync=True)
    playing = T.Bool(False, help="Playing now; set False to stop.").tag(sync=True)

    def __init__(self, **kwargs):
        kwargs.pop("show_repeat", None)
        super().__init__(**kwargs)

    @T.validate("value")
    def _clamp(self, proposal):
        return min(max(proposal["value"], self.min), self.max)
