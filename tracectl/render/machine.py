"""Machine-readable writers shared by every command: JSON (with a schema version), JSON Lines, CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson


def _default(value: Any) -> Any:
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode("ascii")
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json(document: Mapping[str, Any], schema: str) -> str:
    """A whole JSON document, schema first, pretty-printed, newline-terminated."""
    body = {"schema": schema, **document}
    return orjson.dumps(body, default=_default, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode() + "\n"


def to_jsonl(rows: Iterable[Mapping[str, Any]]) -> str:
    return "".join(orjson.dumps(r, default=_default).decode() + "\n" for r in rows)


def to_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], raw: bool = False) -> str:
    """CSV with a header; a text cell starting like a formula (``=``, ``+``, ``-``, ``@``) gets a leading ``'``
    (``safe_text.csv_cell``) unless ``raw``."""
    from tracectl.render.safe_text import csv_cell

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(v) if raw else csv_cell(_csv_cell(v)) for k, v in row.items()})
    return buf.getvalue()


def _csv_cell(value: Any) -> Any:
    """CSV cells spell booleans and nulls as JSON does, so both outputs read the same."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
