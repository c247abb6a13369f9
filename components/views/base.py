"""Pieces every view shares: how problems and empty states are shown."""

from __future__ import annotations

import html

import panel as pn
import param

from ..catalog import Catalog


def problem(message: str, title: str = "Cannot show this") -> pn.pane.Alert:
    """A visible, escaped explanation: object names never render as HTML."""
    return pn.pane.Alert(
        f"**{html.escape(title)}:** {html.escape(str(message))}",
        alert_type="danger", sizing_mode="stretch_width",
    )


def notice(message: str) -> pn.pane.Alert:
    return pn.pane.Alert(html.escape(message), alert_type="info",
                         sizing_mode="stretch_width")


class CatalogView(pn.viewable.Viewer):
    """A view fed by a catalog; subclasses lay out their own part."""

    catalog = param.ClassSelector(class_=Catalog, allow_None=True, doc="""
        Source of artifacts and of the current selection.""")

    title = param.String(default="", doc="Heading shown above the view.")

    def _heading(self) -> pn.pane.Markdown:
        return pn.pane.Markdown(f"## {html.escape(self.title)}", margin=(0, 10))
