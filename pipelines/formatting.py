"""How data is written for people: amounts ("USD 1.2M"), and names made safe as text in
markdown that becomes HTML (e-mail, chat, the Prefect UI)."""

from __future__ import annotations

import math
import re


def money(value: float | None, currency: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    value = float(value)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{currency} {value / size:,.1f}{suffix}".strip()
    return f"{currency} {value:,.0f}".strip()


# Markdown that can act mid-line: code, emphasis, links and images, table cells. (Line-start
# syntax such as lists and headings cannot apply: data never starts a line.)
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]()!|])")
TITLE_SPECIAL = re.compile(r"[\\`*_\[\]()!|<>&#]")


def md_text(value: object) -> str:
    """`value` as literal text inside markdown: HTML's `&`, `<`, `>` become entities (so
    no tag survives the conversion to HTML) and markdown punctuation is backslash-escaped
    (so no link, image or emphasis can be injected through a name)."""
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)


def title_text(value: object) -> str:
    """`value` for a message title, which some channels show as plain text (an e-mail
    subject) and others run through markdown: the characters markup needs are dropped."""
    return TITLE_SPECIAL.sub("", str(value))
