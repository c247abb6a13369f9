"""Write one section of ``docs/performance.md``, leaving the others as they are."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def new_document(machine: str) -> str:
    return (f"# Performance\n\nMeasurements of SOC Copilot on its development "
            f"machine: {machine}.\nEach section is written by the benchmark it "
            f"names; the sections are independent.\n")


def replace_section(text: str, heading: str, body: str) -> str:
    """``text`` with the ``## heading`` section replaced by (or given) ``body``."""
    section = f"## {heading}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)",
                         re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _match: section + "\n", text, count=1).rstrip() + "\n"
    return f"{text.rstrip()}\n\n{section}"


def write_section(heading: str, body: str, machine: str, doc: Path = DOC) -> Path:
    """Put ``body`` under ``## heading`` in ``doc``, creating the file if new."""
    text = doc.read_text() if doc.exists() else new_document(machine)
    doc.write_text(replace_section(text, heading, body))
    return doc


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
