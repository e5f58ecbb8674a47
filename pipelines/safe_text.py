"""Text from the data, made safe for one output at a time (a sink).

Every string that comes from an export (names, teams, accounts, reasons, drivers) goes
through the function of the place it is written to, never raw:

- `plain`: the text itself, without what no output should carry: control characters
  (C0, DEL, C1; line breaks and tabs become one space), bidi overrides and isolates
  (U+202A-U+202E, U+2066-U+2069, which make "gnp.exe" read as "exe.png"), zero-width
  spaces, word joiners and the BOM. Optionally shortened with
  an ellipsis. Letters of every script pass unchanged.
- `subject`: one short line for an e-mail subject or a message title; the characters that
  markup or header syntax needs are dropped (a title is plain text in some channels and
  markdown in others).
- `html`, `markdown`, `terminal`, `terminal_lines`, `table_cell`: plain, then escaped for
  that output (see each).

Chat messages are markdown too: `alerts.channels` hands the markdown body to apprise,
as HTML for Slack (apprise then applies Slack's own `&amp; &lt; &gt;` escapes, so
`<!channel>`, `<@U1>` and `<url|text>` arrive as text) and as markdown for Teams (where
the entities and escaped brackets leave no `<at>` mention and no link).
"""

from __future__ import annotations

import html as html_module
import re

ELLIPSIS = "…"
SUBJECT_LIMIT = 150
TABLE_CELL_LIMIT = 80

# Bidi embeddings, overrides and isolates, the zero-width space, word joiners and the BOM.
# Kept: the zero-width (non-)joiners U+200C/U+200D (emoji sequences, Indic and Persian
# words need them) and the left-/right-to-left marks U+200E/U+200F (Arabic and Hebrew
# names use them; they cannot reorder text).
BIDI_AND_INVISIBLE = re.compile("[\u200b\u202a-\u202e\u2060-\u2069\ufeff]")
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
LINE_BREAKS_AND_TABS = re.compile(r"[\t\r\n\f\v\x1c-\x1f\x85\u2028\u2029]+")
# Markdown that can act mid-line: code, emphasis, links and images (no link without its
# escaped brackets, so parentheses and "!" stay as they are), table cells, headings.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|#])")
SUBJECT_SPECIAL = re.compile(r"[\\`*_\[\]()!|<>&#~]")


def shorten(text: str, limit: int | None) -> str:
    """`text` cut to at most `limit` characters, the last of them an ellipsis."""
    if limit is None or len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + ELLIPSIS


def plain(text: object, limit: int | None = None) -> str:
    """`text` as one line of plain text: line breaks and tabs collapsed to a space, control,
    bidi-override and invisible format characters removed, shortened to `limit`."""
    value = LINE_BREAKS_AND_TABS.sub(" ", str(text))
    value = BIDI_AND_INVISIBLE.sub("", CONTROL.sub("", value))
    return shorten(value.strip(), limit)


def terminal_lines(text: object) -> str:
    """`text` for a terminal, keeping its lines and their indentation: on each line,
    control, bidi-override and invisible format characters removed, tabs as spaces."""
    return "\n".join(
        BIDI_AND_INVISIBLE.sub("", CONTROL.sub("", line.replace("\t", " "))).rstrip()
        for line in str(text).splitlines()
    )


def subject(text: object, limit: int = SUBJECT_LIMIT) -> str:
    """`text` as an e-mail subject or message title: one line (no CR/LF can reach a
    header), no markup characters, at most `limit` characters."""
    return shorten(re.sub(" +", " ", SUBJECT_SPECIAL.sub("", plain(text))).strip(), limit)


def html(text: object, limit: int | None = None) -> str:
    """`text` as HTML text or an attribute value: `& < > " '` become entities."""
    return html_module.escape(plain(text, limit), quote=True)


def markdown(text: object, limit: int | None = None) -> str:
    """`text` as literal text inside markdown that becomes HTML (e-mail, the Prefect UI,
    the file outbox): `& < >` become entities (no tag or Slack/Teams mention survives the
    conversion) and markdown punctuation is backslash-escaped (no link, image, emphasis
    or heading); plain first, so no line break can start a heading or a list."""
    value = plain(text, limit).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return MARKDOWN_SPECIAL.sub(r"\\\1", value)


def terminal(text: object, limit: int | None = None) -> str:
    """`text` for a terminal: plain, so no escape sequence (colours, cursor moves, a title
    change) and no right-to-left override reaches the screen."""
    return plain(text, limit)


def table_cell(text: object, limit: int = TABLE_CELL_LIMIT) -> str:
    """`text` for a cell of a report table (HTML and PDF): plain, at most `limit`
    characters, so an over-long name cannot stretch a row past a page."""
    return plain(text, limit)
