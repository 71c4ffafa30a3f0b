"""Training data (the reference of ``tracectl drift``): Parquet, CSV or JSON Lines, read with pandas/pyarrow.

Only the columns a comparison needs are read: a wide training table costs what its features cost. Compressed
CSV and JSON Lines (``.gz``, ``.bz2``, ``.zst``, ``.xz``) are read transparently.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tracectl.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

KINDS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl",
         ".ndjson": "jsonl", ".json": "json"}  # fmt: skip
COMPRESSION = (".gz", ".bz2", ".zst", ".xz", ".zip")


def table_kind(path: Path, flag: str = "--reference") -> str:
    """parquet, csv, tsv, jsonl or json, from the file name (checked before any work)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSION:
        suffixes.pop()
    kind = KINDS.get(suffixes[-1]) if suffixes else None
    if kind is None:
        raise InputError(f"{flag}: {path} must be a .parquet, .csv, .tsv or .jsonl file (optionally compressed)")
    return kind


def _problem(path: Path, exc: Exception, flag: str = "--reference") -> InputError:
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{flag}: {path}: no such file")
    if isinstance(exc, OSError):
        return InputError(f"{flag}: {path}: cannot read it ({exc.strerror or exc})")
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return InputError(f"{flag}: {path}: not a readable {table_kind(path, flag)} table ({first})")


def table_columns(path: Path, flag: str = "--reference") -> list[str]:
    """The column names, read from the file's header (Parquet: its schema) without loading the rows."""
    import pandas as pd

    kind = table_kind(path, flag)
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        if kind in ("csv", "tsv"):
            return [str(c) for c in pd.read_csv(path, nrows=0, sep="\t" if kind == "tsv" else ",").columns]
        return [str(c) for c in _read_json(path, kind, nrows=100).columns]
    except Exception as exc:  # noqa: BLE001 - pandas and pyarrow raise many types for one bad file
        raise _problem(path, exc, flag) from None


def read_table(path: Path, columns: Sequence[str], flag: str = "--reference") -> pd.DataFrame:
    """The named columns of the table, every row."""
    import pandas as pd

    kind = table_kind(path, flag)
    wanted = list(dict.fromkeys(columns))
    try:
        if kind == "parquet":
            return pd.read_parquet(path, columns=wanted)
        if kind in ("csv", "tsv"):
            return pd.read_csv(path, usecols=wanted, sep="\t" if kind == "tsv" else ",")
        return _read_json(path, kind)[wanted]
    except Exception as exc:  # noqa: BLE001
        raise _problem(path, exc, flag) from None


def _read_json(path: Path, kind: str, nrows: int | None = None) -> pd.DataFrame:
    import pandas as pd

    if kind == "jsonl":
        return pd.read_json(path, lines=True, nrows=nrows, dtype=False)  # dtype=False: "login_time" stays a number
    return pd.read_json(path, dtype=False)  # an array of records
