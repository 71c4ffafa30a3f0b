"""The NLP model's predictions and their ground truth: what a model-quality SLI is computed from.

``intent-bert`` tells whether a request shows purchase intent. Its ``forward`` span records its confidence as
``ml.prediction.confidence`` (positive at 0.5 and above); the truth of each request is drawn from the request's
own seed, so the same scenario and seed give the same labels. Labellers see a deterministic half of the requests:
``sandbox serve --labels-out FILE`` writes that labelled sample (id = trace ID, label 0/1, time).

The healthy model is sure and right; ``2024.12.0-rc1`` (``bad-model-version``) is confident whatever the request,
so its precision falls to the share of purchase intents.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING

from tracectl.errors import InputError

if TYPE_CHECKING:
    from tracectl.sandbox.workload import Workload

CONFIDENCE_KEY = "ml.prediction.confidence"
POSITIVE_SHARE = 0.4  # requests that show purchase intent
LABELLED_SHARE = 0.5  # requests the labellers see
FORMATS = (".jsonl", ".csv", ".parquet")


def truth(request_seed: int) -> int:
    """Whether the request shows purchase intent (1) or not (0)."""
    return int(random.Random(request_seed ^ 0x1ABE1).random() < POSITIVE_SHARE)


def labelled(request_seed: int) -> bool:
    return random.Random(request_seed ^ 0x5A3B1E).random() < LABELLED_SHARE


def confidence(request_seed: int, bad_version: bool) -> float:
    """The model's confidence in purchase intent: from its own generator, so the other timings stay as they were."""
    rng = random.Random(request_seed ^ 0xC0F1D)
    if bad_version:
        return round(rng.uniform(0.35, 1.0), 4)
    return round(rng.betavariate(10.0, 1.2) if truth(request_seed) else rng.betavariate(1.2, 10.0), 4)


def write_labels(path: Path, workload: Workload) -> int:
    """The labelled sample of ``workload`` to ``path`` (.jsonl, .csv or .parquet): columns id, label, time (RFC
    3339); returns the rows written."""
    import csv

    import orjson

    from tracectl.timerange import rfc3339

    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"--labels-out: {path} must end in .jsonl, .csv or .parquet")
    rows = [{"id": tid, "label": label, "time": rfc3339(t)} for tid, label, t in workload.labels]
    try:
        if suffix == ".parquet":
            import pandas as pd

            pd.DataFrame(rows, columns=["id", "label", "time"]).to_parquet(path, index=False)
        elif suffix == ".csv":
            with path.open("w", newline="", encoding="utf-8") as out:
                writer = csv.DictWriter(out, ["id", "label", "time"])
                writer.writeheader()
                writer.writerows(rows)
        else:
            with path.open("wb") as out:
                out.writelines(orjson.dumps(r) + b"\n" for r in rows)
    except OSError as exc:
        raise InputError(f"--labels-out: {path}: cannot write: {exc.strerror or exc}") from None
    return len(rows)
