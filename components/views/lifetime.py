"""What a served page undoes when its session closes, so the page can be freed.

Panel keeps every widget's browser-side callbacks (``jscallback``, ``jslink``)
in one registry for the whole process, ``panel.links.Callback.registry``,
weakly keyed by the widget. The editable slider gives its number box such a
callback whose arguments hold the slider, and the slider's watchers reach back
to the box: the key is never freed, so neither is the entry. It holds the
slider, the slider's watchers, and through them whatever the watchers belong
to: for the anomaly view, the whole page (its catalog, tables, plots and
document), for as long as the server runs. Unregistering those callbacks
when the session closes breaks the cycle.
"""

from __future__ import annotations

import weakref
from functools import partial

import panel as pn
from bokeh.document import Document
from panel.links import Callback

from .. import get_logger

log = get_logger(__name__)


def forget_links_on_close(doc: Document, widget: pn.viewable.Viewable) -> None:
    """When ``doc``'s session closes, unregister the browser-side callbacks of
    ``widget`` and of the widgets inside it."""
    # Weak: a destroyed document may itself be held a while by the server,
    # and must not hold the page through this callback.
    doc.on_session_destroyed(partial(_forget_links, weakref.ref(widget)))


def _forget_links(widget_ref: weakref.ref, session_context) -> None:
    widget = widget_ref()
    if widget is None:
        return
    dropped = 0
    for part in widget.select():
        for callback in list(Callback.registry.get(part, [])):
            callback.unwatch()
            dropped += 1
        # An emptied entry refers to nothing: it goes with its widget.
    log.debug("browser-side callbacks unregistered count=%d", dropped)
