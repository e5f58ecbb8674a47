"""Where alerts and reports go: apprise URLs, Prefect notification blocks, or files.

Configured only from the environment (secrets live in the URLs and blocks, never in
files of the project, and are never logged: a channel is named by its scheme and its
place in the variable, e.g. `mailto-1`):

- `REPRADAR_ALERT_URLS` / `REPRADAR_REPORT_URLS`: apprise URLs, separated by
  whitespace (e-mail `mailtos://user:pass@smtp.example.com?to=hr@example.com`, Slack
  `slack://...`, Teams `workflows://...`, a webhook `json://host/path`).
- `REPRADAR_ALERT_BLOCKS` / `REPRADAR_REPORT_BLOCKS`: Prefect notification blocks by
  slug, e.g. `slack-webhook/hr-alerts`.
- Neither: a file outbox, one markdown file per message under `outbox/hr/` or
  `outbox/leadership/` next to the warehouse.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pipelines import settings
from pipelines.errors import RepradarError
from pipelines.file_modes import private_directory
from pipelines.partial_files import partial_path, remove_left_over_partials
from pipelines.safe_text import plain

TITLE_LIMIT = 300  # characters of a title or e-mail subject


class ChannelConfigError(RepradarError):
    """A configured channel is not usable (the message names the variable, not the URL)."""


class DeliveryError(RepradarError):
    """A channel did not take the message (the text never holds a secret)."""


@dataclass(frozen=True)
class Message:
    alert_id: int
    title: str
    body: str  # markdown
    attachment: Path | None = None

    @property
    def header(self) -> str:
        """The title as one line of at most TITLE_LIMIT characters: what a subject header,
        a chat heading or a file name may carry (no CR/LF can inject an e-mail header)."""
        return plain(self.title, TITLE_LIMIT)


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> None: ...


def _quiet_apprise() -> None:
    """apprise logs whole URLs, passwords included (at TRACE, and at ERROR when a URL does
    not parse), so it does not log at all; failures surface as DeliveryError instead."""
    logging.getLogger("apprise").setLevel(logging.CRITICAL + 1)


class AppriseChannel:
    """One apprise URL (e-mail, Slack, Teams, webhook, ...)."""

    def __init__(self, url: str, position: int) -> None:
        """`position`: the URL's place in its variable (1, 2, ...), which names the
        channel (`mailto-1`): nothing derived from the URL, which holds the secret."""
        import apprise
        from apprise.plugins.slack import NotifySlack

        _quiet_apprise()
        scheme = url.split("://", 1)[0].lower()
        self.name = f"{scheme}-{position}"
        self._url = url
        plugin = apprise.Apprise.instantiate(url)
        if plugin is None:
            raise ChannelConfigError(f"not a valid apprise URL (channel {self.name})")
        self._is_slack = isinstance(plugin, NotifySlack)  # slack:// or a hooks.slack.com URL

    def send(self, message: Message) -> None:
        import apprise

        _quiet_apprise()
        notifier = apprise.Apprise()  # a fresh one: apprise throttles repeat sends per object
        notifier.add(self._url)
        body, body_format = self._body(message.body)
        delivered = notifier.notify(
            title=message.header,
            body=body,
            body_format=body_format,
            attach=str(message.attachment) if message.attachment else None,
        )
        if not delivered:
            raise DeliveryError(f"{self.name} did not accept the message")

    def _body(self, body: str) -> tuple[str, str]:
        """The body and its format for this channel; data values in it arrive escaped for
        markdown (`safe_text.markdown`). Slack is given the body as HTML: apprise's
        markdown path for Slack turns any `!channel>`, `@U1>` or `url|text>` it finds back
        into a live mention or link, its HTML path escapes text as Slack requires
        (`&amp; &lt; &gt;`)."""
        import apprise
        from apprise.conversion import markdown_to_html

        if self._is_slack:
            return markdown_to_html(body), apprise.NotifyFormat.HTML
        return body, apprise.NotifyFormat.MARKDOWN


class PrefectBlockChannel:
    """A saved Prefect notification block (Slack, Teams, e-mail, custom webhook, ...).
    Blocks take no attachments: the message names the file instead."""

    def __init__(self, slug: str) -> None:
        self.slug = slug
        self.name = f"block-{slug}"

    def send(self, message: Message) -> None:
        from prefect.blocks.core import Block

        try:
            block = Block.load(self.slug)
            body = message.body
            if message.attachment:
                body += f"\n\nAttached file: {message.attachment}"
            block.notify(body, subject=message.header)
        except Exception as error:  # a block raises whatever its service raised
            raise DeliveryError(f"{self.name}: {type(error).__name__}") from error


class FileChannel:
    """The outbox directory: `<alert id>-<slug of the title>.md` per message."""

    name = "file"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: Message) -> None:
        """Readable by the owner only: the files name people and their risk."""
        private_directory(self.directory)
        slug = re.sub(r"[^a-z0-9]+", "-", message.header.lower()).strip("-")[:60]
        text = f"# {message.header}\n\n{message.body}\n"
        if message.attachment:
            text += f"\nAttached: [{message.attachment.name}]({message.attachment.resolve()})\n"
        path = self.directory / f"{message.alert_id:05d}-{slug}.md"
        remove_left_over_partials(self.directory)
        partial = partial_path(path)
        try:
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(text)
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)


def configured_channels(audience: str, outbox_directory: Path) -> list[Channel]:
    """The channels of `audience` ("hr" or "leadership") from the environment; the file
    outbox when none is configured."""
    urls_setting = settings.CHANNEL_SETTINGS[audience][0]
    try:
        channels: list[Channel] = [
            AppriseChannel(url, position)
            for position, url in enumerate(settings.channel_urls(audience), 1)
        ]
    except ChannelConfigError as error:
        raise ChannelConfigError(f"${urls_setting.name}: {error}") from None
    channels += [PrefectBlockChannel(slug) for slug in settings.channel_blocks(audience)]
    return channels or [FileChannel(outbox_directory)]


def ack_footer(alert_id: int) -> str:
    return (
        f"\n\n---\nAlert #{alert_id}. When you have acted: "
        f'`repradar alerts ack {alert_id} --by <you> --action "<what you did>"`'
    )
