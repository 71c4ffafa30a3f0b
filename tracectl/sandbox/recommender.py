"""The sandbox's recommender: a model whose inputs and output ride on its spans, and the data it was trained on.

The inference-orchestrator calls ``recommender/Recommend`` alongside the model router (it is shorter than the
models, so it is never on the critical path and leaves every other service's timing as it was). Its ``predict``
span carries the model's inputs as ``ml.feature.*`` attributes and its output as ``ml.prediction.score``. The
training data (``tracectl sandbox reference``) is drawn from the same distributions as healthy requests.

In ``recommender-input-drift`` a client release sends ``session_duration`` in milliseconds instead of seconds
and brings a device type the model never saw; latency, errors and the model's scores stay as they were.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracectl.model import Span, SpanKind
from tracectl.sandbox.synth import TraceBuilder

if TYPE_CHECKING:
    import pandas as pd

    from tracectl.sandbox.workload import _Logger

DEVICES = ("mobile", "desktop", "tablet")
DEVICE_WEIGHTS = (0.55, 0.35, 0.10)
NEW_DEVICE = "smart-tv"  # what the new client release brings
NEW_DEVICE_SHARE = 0.3  # of the requests from the new release
FEATURE_PREFIX = "ml.feature."
SCORE_KEY = "ml.prediction.score"
# Reference columns, named as the training pipeline names them: the spans' keys without their prefix.
COLUMNS = ("session_duration", "items_viewed", "device.type", "prediction.score")
FORMATS = (".parquet", ".csv", ".jsonl")


def draw(rng: random.Random, new_release: bool = False) -> dict[str, float | int | str]:
    """One request's inputs and the model's score, keyed by reference column."""
    seconds = round(rng.lognormvariate(math.log(180.0), 0.6), 3)
    device = rng.choices(DEVICES, DEVICE_WEIGHTS)[0]
    row: dict[str, float | int | str] = {
        "session_duration": seconds,
        "items_viewed": int(rng.gammavariate(3.0, 4.0)),
        "device.type": device,
        "prediction.score": round(rng.betavariate(2.0, 5.0), 4),
    }
    if new_release:
        row["session_duration"] = round(seconds * 1000)  # milliseconds, where the model expects seconds
        if rng.random() < NEW_DEVICE_SHARE:
            row["device.type"] = NEW_DEVICE
    return row


def recommend(b: TraceBuilder, logger: _Logger, orch: Span, start_ns: int, new_release: bool, seed: int) -> Span:
    """The orchestrator's call to the recommender, starting at ``start_ns``. Call it after every other span of
    the request is built: it draws from the builder's generator, and the others must not see those draws."""
    row = draw(random.Random(seed ^ 0x5EED), new_release)
    handler = b.jitter_us(3.0, 0.1)
    server = b.rpc(orch, "inference-orchestrator", "recommender", "Recommend", start_ns, handler, 400_000)
    attributes: dict[str, float | int | str] = {"ml.model.name": "reco-gbdt", "ml.model.version": "7.1.0"}
    attributes.update({FEATURE_PREFIX + k: v for k, v in row.items() if k != "prediction.score"})
    attributes[SCORE_KEY] = row["prediction.score"]
    start = server.start_ns + b.jitter_us(0.2, 0.1)
    predict = b.span("recommender", "predict", start, b.jitter_us(1.2, 0.1), server, SpanKind.INTERNAL, attributes)
    logger.log(predict, predict.end_ns, "info", "recommendations served", items=10)
    return server


def reference_columns(rows: int = 5000, seed: int = 7) -> dict[str, list[Any]]:
    """The training data, column by column: ``draw``'s distributions for healthy requests, drawn with numpy."""
    import numpy as np

    rng = np.random.default_rng(seed)
    devices = rng.choice(np.array(DEVICES), rows, p=DEVICE_WEIGHTS)
    return {
        "session_duration": np.round(rng.lognormal(math.log(180.0), 0.6, rows), 3).tolist(),
        "items_viewed": np.floor(rng.gamma(3.0, 4.0, rows)).astype(int).tolist(),
        "device.type": devices.tolist(),
        "prediction.score": np.round(rng.beta(2.0, 5.0, rows), 4).tolist(),
    }


def reference_frame(rows: int = 5000, seed: int = 7) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(reference_columns(rows, seed))


def write_reference(path: Path, rows: int = 5000, seed: int = 7) -> int:
    """Write the training data to ``path`` (.parquet, .csv or .jsonl, from its name); returns the rows written.
    CSV and JSON Lines are written without pandas, so the demo does not pay for importing it."""
    import csv

    import orjson

    from tracectl.errors import InputError

    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"--out: {path} must end in .parquet, .csv or .jsonl")
    columns = reference_columns(rows, seed)
    records = zip(*columns.values(), strict=True)
    try:
        if suffix == ".parquet":
            reference_frame(rows, seed).to_parquet(path, index=False)
        elif suffix == ".csv":
            with path.open("w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(columns)
                writer.writerows(records)
        else:
            with path.open("wb") as out:
                out.writelines(orjson.dumps(dict(zip(columns, r, strict=True))) + b"\n" for r in records)
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return rows
