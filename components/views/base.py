"""Pieces every view shares: how problems and empty states are shown."""

from __future__ import annotations

import functools

import panel as pn
import param

from .. import get_logger
from ..catalog import Catalog
from .text import as_text


def problem(message: str, title: str = "Cannot show this") -> pn.pane.Alert:
    """A visible, escaped explanation: object names never render as HTML."""
    return pn.pane.Alert(
        f"**{as_text(title)}:** {as_text(str(message))}",
        alert_type="danger", sizing_mode="stretch_width",
    )


log = get_logger(__name__)


def shows_problems(render):
    """Draw a view part, or, if anything in it fails, say so in its place.

    One odd artifact must not replace the page with a traceback; the failure
    is logged with its traceback for whoever runs the server.
    """

    @functools.wraps(render)
    def guarded(self, *args, **kwargs):
        try:
            return render(self, *args, **kwargs)
        except Exception as exc:
            log.exception("%s could not be drawn", type(self).__name__)
            return problem(f"{type(exc).__name__}: {exc}",
                           f"{self.title} could not be drawn")

    return guarded


def notice(message: str) -> pn.pane.Alert:
    return pn.pane.Alert(as_text(message), alert_type="info",
                         sizing_mode="stretch_width")


class CatalogView(pn.viewable.Viewer):
    """A view fed by a catalog; subclasses lay out their own part."""

    catalog = param.ClassSelector(class_=Catalog, allow_None=True, doc="""
        Source of artifacts and of the current selection.""")

    title = param.String(default="", doc="Heading shown above the view.")

    def _heading(self) -> pn.pane.Markdown:
        return pn.pane.Markdown(f"## {as_text(self.title)}", margin=(0, 10))
