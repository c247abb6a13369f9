"""The status area: where the data comes from and whether the store answers."""

from __future__ import annotations

import panel as pn
import param

from components.catalog import Catalog
from components.views.text import as_text


class StatusPanel(pn.viewable.Viewer):
    """Store location, buckets, object counts and last refresh; never a key."""

    catalog = param.ClassSelector(class_=Catalog, doc="The catalog to describe.")

    refresh = param.Callable(default=None, allow_None=True, doc="""
        What "Refresh now" calls; the catalog's own refresh when None.""")

    def __init__(self, **params):
        super().__init__(**params)
        self._refresh = pn.widgets.Button(label="Refresh now", color="default",
                                          width=200)
        self._refresh.on_click(self._refresh_now)

    def _refresh_now(self, _event) -> None:
        (self.refresh or self.catalog.refresh)()

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(pn.panel(self._summary), self._refresh,
                         css_classes=["status"])

    @param.depends("catalog.last_refresh", "catalog.problems", "catalog.listing")
    def _summary(self) -> pn.pane.Markdown:
        return pn.pane.Markdown(status_markdown(self.catalog),
                                css_classes=["store-status"])


def status_markdown(catalog: Catalog) -> str:
    store = catalog.store
    if store is None:
        return "**Store:** not configured"
    buckets = "\n".join(f"  - {as_text(role)}: {as_text(name)}"
                        for role, name in store.config.buckets.items())
    counts = "\n".join(f"  - {as_text(what)}: {count}"
                       for what, count in catalog.object_counts.items())
    refreshed = _when(catalog.last_refresh)
    if catalog.listing and catalog.last_refresh is None:
        state = "listing the buckets…"
    elif catalog.problems:
        state = (f"problems with {', '.join(map(as_text, catalog.problems))}; "
                 f"last answered in full: {_when(catalog.last_good_refresh)}")
    else:
        state = "answering"
    cluster = (f"**Dask cluster:** {as_text(catalog.dask.location)} (reads the "
               "score tables)\n\n" if catalog.dask is not None else "")
    return (f"**Store:** {as_text(store.location)}\n\n**State:** {state}\n\n"
            f"{cluster}**Buckets:**\n{buckets}\n\n**Objects:**\n{counts}\n\n"
            f"**Last refresh:** {refreshed}")


def _when(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "never"


def problems_banner(catalog: Catalog) -> pn.viewable.Viewable:
    """A banner over the page while any bucket cannot be listed."""

    def banner(problems: dict[str, str]) -> pn.viewable.Viewable:
        if not problems:
            return pn.Spacer(height=0)
        lines = "; ".join(as_text(reason) for reason in problems.values())
        if catalog.last_good_refresh is not None:
            lines += (" — showing what the store held at "
                      f"{_when(catalog.last_good_refresh)}; trying again.")
        return pn.pane.Alert(f"**Store problem:** {lines}", alert_type="danger",
                             sizing_mode="stretch_width",
                             css_classes=["store-banner"])

    return pn.panel(pn.bind(banner, catalog.param.problems))
