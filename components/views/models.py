"""The models the pipeline trained: all runs, and the selected one in detail."""

from __future__ import annotations

import holoviews as hv
import pandas as pd
import panel as pn
import param

from ..store import ArtifactInfo, latest
from .base import CatalogView, notice, problem, shows_problems
from .text import as_text


class ModelView(CatalogView):
    """Every model in the bucket, the latest marked; details of the selection.

    Usable alone in a notebook: ``ModelView(catalog=Catalog.from_env())``.
    """

    title = param.String(default="Models")

    def __panel__(self) -> pn.viewable.Viewable:
        selector = pn.widgets.Select.from_param(
            self.catalog.param.model, name="Model", width=360)
        return pn.Column(
            self._heading(), selector,
            pn.Row(pn.panel(self._runs, sizing_mode="stretch_width"),
                   pn.panel(self._details, width=440)),
            sizing_mode="stretch_width", name=self.title,
        )

    @param.depends("catalog.models", "catalog.model", "catalog.problems")
    @shows_problems
    def _runs(self) -> pn.viewable.Viewable:
        models = self.catalog.models
        if not models:
            reason = self.catalog.why_empty("models", "model")
            return problem(reason, "No models") if self.catalog.problems.get(
                "models") else notice(f"No models to show: {reason}.")
        table = models_table(models, self.catalog.model)
        return pn.Column(
            _timeline(table),
            pn.widgets.Tabulator(
                table, show_index=False, disabled=True, layout="fit_data_table",
                height=min(
                    60 + 32 * len(table), 330), sizing_mode="stretch_width",
                css_classes=["model-runs"]),
            sizing_mode="stretch_width",
        )

    @param.depends("catalog.model")
    @shows_problems
    def _details(self) -> pn.viewable.Viewable:
        info = self.catalog.selected_model
        if info is None:
            return pn.pane.Markdown("")
        try:
            model = self.catalog.load_model(info)
        except Exception as exc:
            return problem(str(exc), f"Cannot read {info.name}")
        return pn.pane.Markdown(details_markdown(info, model), width=420,
                                css_classes=["model-details"])


def models_table(models: list[ArtifactInfo], selected: str | None) -> pd.DataFrame:
    """One row per model object, newest first, the latest one marked."""
    newest = latest(models)
    rows = [{
        "model": info.name,
        "trained": info.run_time,
        "size (KB)": round(info.size / 1024, 1),
        "latest": "latest" if info == newest else "",
        "selected": "selected" if info.name == selected else "",
    } for info in models]
    return pd.DataFrame(rows).sort_values("trained", ascending=False,
                                          ignore_index=True)


def _timeline(table: pd.DataFrame) -> hv.Overlay:
    spikes = hv.Spikes(table, kdims=["trained"], vdims=["size (KB)", "model"])
    marked = table[table["latest"] != ""]
    latest_point = hv.Scatter(marked, kdims=["trained"], vdims=["size (KB)"])
    return (spikes.opts(color="#4a6fa5", line_width=3, tools=["hover"])
            * latest_point.opts(color="#d62728", size=10)).opts(
        height=150, responsive=True, yaxis=None, title="Training runs (red: latest)",
        toolbar=None)


def details_markdown(info: ArtifactInfo, model) -> str:
    """The selected model as a Markdown list, every value escaped."""
    details = dict(model.details)
    parameters = details.pop("parameters", {})
    lines = [
        f"### {as_text(info.name)}",
        f"- **class:** {as_text(str(details.pop('class', '?')))}",
        f"- **features:** {as_text(', '.join(model.feature_names))}",
        f"- **object size:** {info.size:,} bytes",
        f"- **stored:** {info.last_modified:%Y-%m-%d %H:%M:%S} UTC",
    ]
    lines += [f"- **{as_text(k)}:** {as_text(str(v))}"
              for k, v in details.items() if k != "features"]
    if parameters:
        lines.append("\n**Hyper-parameters**\n")
        lines += [f"- {as_text(k)}: {as_text(repr(v))}"
                  for k, v in parameters.items()]
    return "\n".join(lines)
