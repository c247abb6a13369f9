"""The SOC Copilot page: three views over one catalog, plus the status area.

Served by ``soc-copilot serve`` or ``panel serve dashboard/app.py``.
"""

from __future__ import annotations

import os
import threading

import holoviews as hv
import panel as pn
from bokeh.document import Document

from components import get_logger
from components.catalog import Catalog
from components.store import ConfigError
from components.store.config import seconds
from components.views import AnomalyView, EvaluationView, ModelView
from components.views.text import as_text
from dashboard.memory import MemoryRelease
from dashboard.refresh import BackgroundRefresh
from dashboard.status import StatusPanel, problems_banner

log = get_logger(__name__)

TITLE = "SOC Copilot"
DEFAULT_REFRESH_SECONDS = 60

pn.extension("tabulator", sizing_mode="stretch_width", notifications=False)
hv.extension("bokeh", logo=False)


def refresh_seconds() -> float:
    """Seconds between listings of each page; 0 turns the timer off."""
    if os.environ.get("SOC_COPILOT_REFRESH_SECONDS", "").strip() in ("0", "0.0"):
        return 0.0
    return seconds(os.environ, "SOC_COPILOT_REFRESH_SECONDS",
                   DEFAULT_REFRESH_SECONDS)


class PageSessions:
    """How many pages' sessions this server process holds, logged as each
    opens and as the server drops it.

    The server drops a closed page's session some 15 to 32 s after the
    browser leaves (and only then can its memory be reused); the log says
    when, and how many remain. Once a burst of drops has settled, the freed
    memory is given back to the system.
    """

    def __init__(self, release: MemoryRelease | None = None):
        self._lock = threading.Lock()
        self.count = 0
        self._release = release or MemoryRelease()

    def opened(self, doc: Document) -> None:
        log.info("page session opened sessions=%d", self._add(1))
        doc.on_session_destroyed(self._dropped)

    def _dropped(self, session_context) -> None:
        log.info("page session closed sessions=%d", self._add(-1))
        self._release.page_dropped()

    def _add(self, change: int) -> int:
        with self._lock:
            self.count += change
            return self.count


PAGE_SESSIONS = PageSessions()


def create_app(catalog: Catalog | None = None) -> pn.template.BaseTemplate:
    """Build one session's page; a new catalog per session, a shared store."""
    doc = pn.state.curdoc
    if doc is not None and doc.session_context is not None:
        PAGE_SESSIONS.opened(doc)
    try:
        catalog = catalog or Catalog.from_env(listed=False)
    except ConfigError as exc:
        log.warning("no store configured: %s", exc)
        return _unconfigured_page(str(exc))
    template = pn.template.BootstrapTemplate(title=TITLE, sidebar_width=360)
    _add_signed_in_user(template)
    status = StatusPanel(catalog=catalog)
    template.sidebar.append(status)
    notice = os.environ.get("SOC_COPILOT_NOTICE", "").strip()
    if notice:
        template.sidebar.append(pn.pane.Alert(as_text(notice), alert_type="light",
                                              css_classes=["data-notice"]))
    template.sidebar.append(_selection(catalog))
    template.main.append(pn.Column(
        problems_banner(catalog),
        pn.Tabs(
            ("Anomalies", AnomalyView(catalog=catalog)),
            ("Evaluation", EvaluationView(catalog=catalog)),
            ("Models", ModelView(catalog=catalog)),
            # Only the open tab is drawn: the first view appears about 2 s
            # sooner, and the others are drawn when first opened.
            dynamic=True, name="views",
        ),
        sizing_mode="stretch_width",
    ))
    _schedule_refresh(catalog, status)
    return template


def _add_signed_in_user(template: pn.template.BaseTemplate) -> None:
    """With sign-in on, who is signed in and a way to sign out."""
    user = pn.state.user
    # "guest" is Panel's name for a visitor let in without signing in.
    if not user or user == "guest":
        return
    template.sidebar.append(pn.pane.Markdown(
        f"Signed in as **{as_text(user)}** · [Sign out](./logout)",
        css_classes=["signed-in"]))


def _selection(catalog: Catalog) -> pn.viewable.Viewable:
    """What the anomaly view shows: an events table and, for silver, a model."""
    return pn.Column(
        "**Events table** (silver tables are scored with the model below)",
        pn.widgets.Select.from_param(catalog.param.events, label="", width=320),
        "**Model**",
        pn.widgets.Select.from_param(catalog.param.model, label="", width=320),
    )


def _schedule_refresh(catalog: Catalog, status: StatusPanel) -> None:
    """List the store once the page is up, then every few seconds.

    The page is sent before the store answers: a slow or absent store shows
    as a banner on a drawn page, not as a page that never arrives.
    """
    doc = pn.state.curdoc
    if doc is None or doc.session_context is None:
        if catalog.last_refresh is None:
            catalog.refresh()
        return
    refresher = BackgroundRefresh(catalog, doc)
    status.refresh = refresher.request
    pn.state.onload(refresher.request)
    period = refresh_seconds()
    if period > 0:
        pn.state.add_periodic_callback(refresher.request, period=int(period * 1000))


def _unconfigured_page(reason: str) -> pn.template.BaseTemplate:
    from components.views.base import problem

    template = pn.template.BootstrapTemplate(title=TITLE)
    _add_signed_in_user(template)
    template.main.append(problem(reason, "No store"))
    return template


if __name__.startswith("bokeh_app"):
    create_app().servable()
