"""A closed page's widgets can be freed, without a server or a browser."""

import gc
import weakref

import panel as pn
from bokeh.document import Document

from components.views.lifetime import forget_links_on_close


class Watcher:
    """Stands for a view that follows its slider, as the anomaly view does."""

    def __init__(self):
        self.slider = pn.widgets.EditableFloatSlider(start=0, end=1, value=0.5)
        self.slider.param.watch(self.follow, "value")

    def follow(self, event) -> None:
        self.value = event.new


def close_session(doc: Document) -> None:
    """What the server does with the document's hooks when its session ends."""
    for callback in list(doc.session_destroyed_callbacks):
        callback(None)


def test_a_closed_page_no_longer_holds_what_watches_its_slider():
    doc = Document()
    page = Watcher()
    forget_links_on_close(doc, page.slider)
    freed = weakref.ref(page)

    close_session(doc)
    del page
    gc.collect()

    assert freed() is None


def test_closing_after_the_widget_is_gone_does_nothing():
    doc = Document()
    slider = pn.widgets.FloatSlider()
    forget_links_on_close(doc, slider)
    del slider
    gc.collect()

    close_session(doc)
