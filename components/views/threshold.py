"""The risk threshold: a slider and a number box kept in step on the server.

Panel's editable slider links its box to its slider in the browser, and that
link both widened the slider to any typed value (``1e309`` made the slider's
range infinite and the browser threw) and was registered for the life of the
process, holding each closed page. Here the two plain widgets only talk
through the server, which decides what a typed value means.
"""

from __future__ import annotations

import numpy as np
import panel as pn
import param


class ThresholdControl(pn.viewable.Viewer):
    """A slider over the scores' range and a box to type an exact value.

    ``value`` is whatever was last set or typed, even outside the range or
    not finite: the owner decides what to make of it and sets it back.
    """

    value = param.Number(default=0.0, allow_None=True, doc="""
        The threshold shown, or the value just typed.""")

    start = param.Number(default=0.0, doc="Lowest value the slider offers.")

    end = param.Number(default=1.0, doc="Highest value the slider offers.")

    step = param.Number(default=0.001, bounds=(0, None), inclusive_bounds=(False, True),
                        doc="Slider step.")

    label = param.String(default="Threshold", doc="Shown above the slider.")

    def __init__(self, **params):
        super().__init__(**params)
        self._slider = pn.widgets.FloatSlider(
            start=self.start, end=self.end, step=self.step,
            value=self._on_slider(self.value), show_value=False,
            sizing_mode="stretch_width", margin=(0, 10, 5, 10))
        self._box = pn.widgets.FloatInput(
            value=self.value, format="0.0000", width=110, margin=(0, 10),
            css_classes=["slider-edit"])
        self._slider.param.watch(self._moved, "value")
        self._box.param.watch(self._typed, "value")
        self.param.watch(self._show_value, "value")
        self.param.watch(self._show_range, ["start", "end", "step"])
        self._layout = pn.Column(
            pn.Row(pn.widgets.StaticText(value=f"{self.label}:", margin=(5, 10)),
                   self._box),
            self._slider, width=360)

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout

    def _on_slider(self, value: float | None) -> float:
        """Where the slider shows ``value``: inside its range, always."""
        if value is None or not np.isfinite(value):
            return self._slider.value if hasattr(self, "_slider") else self.start
        return float(np.clip(value, self.start, self.end))

    def _moved(self, event) -> None:
        self.value = event.new

    def _typed(self, event) -> None:
        self.value = event.new

    def _show_value(self, event) -> None:
        self._place_slider()
        self._box.value = event.new

    def _show_range(self, *_events) -> None:
        self._place_slider()

    def _place_slider(self) -> None:
        """Show the value on the slider over the current range.

        The browser applies each change in turn: going through the union of
        the old range, the new one and the value keeps the slider's value
        inside its bounds at every step, even between disjoint ranges.
        """
        slider = self._slider
        value = self._on_slider(self.value)
        slider.param.update(start=min(slider.start, self.start, value),
                            end=max(slider.end, self.end, value))
        slider.value = value
        slider.param.update(start=self.start, end=self.end, step=self.step)
