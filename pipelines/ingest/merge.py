"""One mapping file's YAML laid over another's (`extends:`)."""

from __future__ import annotations

from typing import Any


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
