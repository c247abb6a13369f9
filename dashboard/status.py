"""The status area: where the data comes from and whether the store answers."""

from __future__ import annotations

import panel as pn
import param

from components.catalog import Catalog
from components.views.text import as_text


class StatusPanel(pn.viewable.Viewer):
    """Store location, buckets, object counts and last refresh; never a key."""

    catalog = param.ClassSelector(class_=Catalog, doc="The catalog to describe.")

    def __init__(self, **params):
        super().__init__(**params)
        self._refresh = pn.widgets.Button(name="Refresh now", button_type="default",
                                          width=200)
        self._refresh.on_click(lambda _event: self.catalog.refresh())

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(pn.panel(self._summary), self._refresh,
                         css_classes=["status"])

    @param.depends("catalog.last_refresh", "catalog.problems")
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
    refreshed = (f"{catalog.last_refresh:%Y-%m-%d %H:%M:%S} UTC"
                 if catalog.last_refresh else "never")
    state = "answering" if not catalog.problems else (
        f"problems with {', '.join(map(as_text, catalog.problems))}")
    return (f"**Store:** {as_text(store.location)}\n\n**State:** {state}\n\n"
            f"**Buckets:**\n{buckets}\n\n**Objects:**\n{counts}\n\n"
            f"**Last refresh:** {refreshed}")


def problems_banner(catalog: Catalog) -> pn.viewable.Viewable:
    """A banner over the page while any bucket cannot be listed."""

    def banner(problems: dict[str, str]) -> pn.viewable.Viewable:
        if not problems:
            return pn.Spacer(height=0)
        lines = "; ".join(as_text(reason) for reason in problems.values())
        return pn.pane.Alert(f"**Store problem:** {lines}", alert_type="danger",
                             sizing_mode="stretch_width",
                             css_classes=["store-banner"])

    return pn.panel(pn.bind(banner, catalog.param.problems))
