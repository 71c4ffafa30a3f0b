"""A labelled sample (the ground truth of a model-quality SLI): CSV, TSV, Parquet or JSON Lines with the columns
``id`` (a trace ID, or the request ID a span attribute carries), ``label`` and, optionally, ``time`` (RFC 3339
or unix seconds/milliseconds/nanoseconds: when the request was made, or labelled). Read with the same readers
as training data (``tracectl.formats.training_data``); errors name the file, the row and the column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from tracectl.errors import InputError

ID, LABEL, TIME = "id", "label", "time"


@dataclass(frozen=True, slots=True)
class LabelRow:
    id: str
    label: float | str | bool
    time_ns: int | None


def _time(value: object, where: str, now_ns: int) -> int | None:
    from tracectl.timerange import parse_instant

    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    if hasattr(value, "value") and hasattr(value, "tz_localize"):  # a pandas Timestamp (Parquet timestamp column)
        return int(value.value)
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    return parse_instant(text, where, now_ns)


def _label(value: object, where: str) -> float | str | bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise InputError(f"{where}: no label")
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if hasattr(value, "item"):  # numpy scalars
        return _label(value.item(), where)
    return str(value)


def read_labels(path: str | Path, flag: str = "labels") -> list[LabelRow]:
    """Every row of the labelled sample (``flag`` names where the file was given, for errors)."""
    import time

    from tracectl.formats.training_data import read_table, table_columns

    file = Path(path)
    columns = table_columns(file, flag)
    missing = [c for c in (ID, LABEL) if c not in columns]
    if missing:
        raise InputError(f"{flag}: {file}: no column {' or '.join(missing)} (columns: {', '.join(columns[:12])}); "
                         "a labelled sample has id, label and optionally time")  # fmt: skip
    frame = read_table(file, [ID, LABEL] + ([TIME] if TIME in columns else []), flag)
    now = time.time_ns()
    rows = []
    for n, record in enumerate(frame.to_dict("records"), 1):
        where = f"{flag}: {file}: row {n}"
        key = record[ID]
        if key is None or (isinstance(key, float) and math.isnan(key)) or str(key).strip() == "":
            raise InputError(f"{where}: no id")
        rows.append(LabelRow(str(key).strip(), _label(record[LABEL], where),
                             _time(record.get(TIME), f"{where}: time", now)))  # fmt: skip
    return rows
