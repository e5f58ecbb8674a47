"""Reading a mapping file's YAML safely, and laying one mapping over another (`extends:`).

Every scalar stays text except true / false / null, and what could expand or nest
without bound (alias bombs, deep nesting, repeated keys) is refused as it is read.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from pipelines.errors import UsageError


class MappingError(UsageError):
    """A mapping file that cannot be used; the message says where and why."""


MAX_MAPPING_BYTES = 1_000_000  # the shipped mappings are under 10 KB
MAX_NODES = 20_000  # keys, values and list items: the shipped mappings have under 1,000
MAX_DEPTH = 32  # levels of nesting: a mapping file needs 6


class _Refused(yaml.YAMLError):
    """YAML a mapping file may not contain, at a line of the file."""

    def __init__(self, mark: yaml.Mark, reason: str) -> None:
        self.line = mark.line + 1
        self.reason = reason
        super().__init__(f"line {self.line}: {reason}")


class _Loader(yaml.SafeLoader):
    """Every scalar is text except true/false and null: `Yes: Closed Won` maps the text
    "Yes" (YAML 1.1 would read a boolean), `010` stays "010" (not the octal number 8),
    `1:30` stays "1:30" (not 90 seconds), `2024-01-05` stays a string.

    Refused as they are met, before anything is expanded: more than MAX_NODES values,
    counting each alias as the values it stands for (an alias bomb fails within a few
    hundred values), an alias inside its own anchor, nesting deeper than MAX_DEPTH and a
    key given twice in one mapping."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._nodes = 0  # values so far, each alias counted as the values it repeats
        self._depth = 0
        self._sizes: dict[str, int] = {}  # anchor -> the values it holds

    def _count(self, mark: yaml.Mark, values: int) -> None:
        self._nodes += values
        if self._nodes > MAX_NODES:
            raise _Refused(
                mark,
                f"more than {MAX_NODES:,} keys and values (aliases counted as the values "
                "they repeat); a mapping file needs a few hundred",
            )

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self.anchors and event.anchor not in self._sizes:
                raise _Refused(
                    event.start_mark, f"the alias *{event.anchor} is inside its own anchor"
                )
            self._count(event.start_mark, self._sizes.get(event.anchor, 1))
            return super().compose_node(parent, index)
        self._count(event.start_mark, 1)
        before = self._nodes
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(event.start_mark, f"nested more than {MAX_DEPTH} levels deep")
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._sizes[anchor] = self._nodes - before + 1
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        first_line: dict[object, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | bool | None):
                continue  # the constructor refuses keys that are not scalars
            if key in first_line:
                raise _Refused(
                    key_node.start_mark,
                    f"the key {_key_text(key)!r} is given twice in one mapping (first on line "
                    f"{first_line[key]}); keep one",
                )
            first_line[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


_TEXT_TAGS = {
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",
}
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag not in _TEXT_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _key_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def load_yaml(path: Path) -> Any:
    """The mapping file's YAML, read at most MAX_MAPPING_BYTES and refusing what
    `_Loader` refuses, with the file and line in the message."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_MAPPING_BYTES + 1)
        if len(data) > MAX_MAPPING_BYTES:
            raise MappingError(
                f"{path}: the mapping file is larger than {MAX_MAPPING_BYTES:,} bytes; "
                "a mapping file needs a few kilobytes"
            )
        return yaml.load(data.decode("utf-8"), Loader=_Loader) or {}
    except _Refused as error:
        raise MappingError(f"{path}, line {error.line}: {error.reason}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise MappingError(f"{path}: cannot read the mapping file: {error}") from error


def merged(base: Any, override: Any) -> Any:
    """`override` laid over `base`: mappings merged key by key, lists item by item, any
    other value replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        return {**base, **{k: merged(base[k], v) if k in base else v for k, v in override.items()}}
    if isinstance(base, list) and isinstance(override, list):
        return [
            merged(base[i], override[i])
            if i < len(base) and i < len(override)
            else (override[i] if i < len(override) else base[i])
            for i in range(max(len(base), len(override)))
        ]
    return override
