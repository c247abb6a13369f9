"""How the tests read and drive the dashboard in Chromium, as an analyst would."""

from __future__ import annotations

import pandas as pd
from playwright.sync_api import expect

# The first page of a server process reads and scores the events.
LOAD_TIMEOUT_MS = 45_000

# Text of the page, including every shadow root and form field.
PAGE_TEXT = """() => {
  const texts = [];
  const visit = (root) => {
    texts.push(root.textContent || "");
    for (const element of root.querySelectorAll("*")) {
      if ("value" in element && typeof element.value === "string") {
        texts.push(element.value);
      }
      if (element.shadowRoot) visit(element.shadowRoot);
    }
  };
  visit(document.documentElement);
  return texts.join("\\n");
}"""


def open_dashboard(page, app) -> None:
    page.goto(app.url)
    expect(labelled(page, "p", "Events:")).to_be_visible(timeout=LOAD_TIMEOUT_MS)


def labelled(page, tag: str, label: str):
    """The ``tag`` element that starts with the bold ``label``."""
    return page.locator(tag, has=page.locator(f"strong:text-is('{label}')"))


def indicator(page, title: str):
    """The value of the number indicator titled ``title``."""
    return page.locator(".bk-panel-models-markup-HTML:not(.markdown) "
                        f"div:text-is('{title}') + div")


def show_tab(page, title: str) -> None:
    page.locator(f".bk-tab:text-is('{title}')").click()


def alerts_column(page, field: str):
    table = page.locator(".bk-panel-models-tabulator-DataTabulator").filter(
        has=page.locator(".tabulator-col-title:text-is('risk')"))
    return table.locator(f".tabulator-row .tabulator-cell[tabulator-field='{field}']")


def shown_risks(page) -> list[float]:
    return [float(text) for text in alerts_column(page, "risk").all_text_contents()]


def set_threshold(page, threshold: float) -> None:
    """Type into the slider's own number box, as an analyst would."""
    box = page.locator(".slider-edit input")
    box.fill(str(threshold))
    box.press("Enter")


def download_alerts(page) -> pd.DataFrame:
    with page.expect_download() as download:
        page.get_by_role("button", name="Download alerts (CSV)").click()
    return pd.read_csv(download.value.path())
