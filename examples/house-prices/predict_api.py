"""predict-api: house prices from a scikit-learn model, with neighbourhood features from feature-service.

    FEATURE_SERVICE_URL=http://127.0.0.1:8001 uvicorn predict_api:app --port 8000

The model is trained at start-up on the example's seeded data. ``FEATURES_IN_THREAD=1`` moves the feature call
to a thread pool without the request's context (``run_in_executor`` does not copy it): each call then starts a
new trace, the break the README finds with ``tracectl check``.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, HTTPException
from housing import FEATURES, training_set
from opentelemetry import metrics, trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from pydantic import BaseModel, Field
from sklearn.ensemble import GradientBoostingRegressor
from telemetry import setup

MODEL_NAME = "house-prices-gbr"
MODEL_VERSION = "2025.06.1"
FEATURE_SERVICE_URL = os.environ.get("FEATURE_SERVICE_URL", "http://127.0.0.1:8001")
FEATURES_IN_THREAD = os.environ.get("FEATURES_IN_THREAD", "") not in ("", "0", "false")

telemetry = setup("predict-api")
log = telemetry.logger
tracer = trace.get_tracer("house_prices.predict", "1.4.0")
predicted = metrics.get_meter("house_prices.predict", "1.4.0").create_histogram(
    "house_prices.predicted_price", unit="USD", description="Prices the model predicted"
)
HTTPXClientInstrumentor().instrument()  # every httpx client: a CLIENT span per call, traceparent injected
_model = GradientBoostingRegressor(n_estimators=120, max_depth=3, random_state=0)
_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="features")
_client: httpx.AsyncClient | None = None
_sync_client: httpx.Client | None = None


class House(BaseModel):
    zipcode: str = Field(pattern=r"^\d{5}$")
    rooms: int = Field(ge=1, le=12)
    area_m2: float = Field(gt=10, lt=2000)
    year_built: int = Field(ge=1800, le=2030)


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    global _client, _sync_client  # noqa: PLW0603 - one connection pool per process
    started = time.perf_counter()
    x, y = training_set()
    _model.fit(x, y)
    log.info("model %s %s trained on %d rows in %.2f s", MODEL_NAME, MODEL_VERSION, len(y),
             time.perf_counter() - started)  # fmt: skip
    _client = httpx.AsyncClient(base_url=FEATURE_SERVICE_URL, timeout=5.0)
    _sync_client = httpx.Client(base_url=FEATURE_SERVICE_URL, timeout=5.0)
    yield
    await _client.aclose()
    _sync_client.close()
    _pool.shutdown()
    telemetry.shutdown()


app = FastAPI(title="predict-api", lifespan=lifespan)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


def _features_blocking(zipcode: str) -> httpx.Response:
    assert _sync_client is not None
    return _sync_client.get(f"/features/{zipcode}")


async def neighbourhood_features(zipcode: str) -> dict[str, float]:
    with tracer.start_as_current_span("fetch features") as span:
        span.set_attribute("feature.zipcode", zipcode)
        if FEATURES_IN_THREAD:  # the bug: the worker thread has no current span, so the call starts a trace
            response = await asyncio.get_running_loop().run_in_executor(_pool, _features_blocking, zipcode)
        else:
            assert _client is not None
            response = await _client.get(f"/features/{zipcode}")
    if response.status_code == 404:
        raise HTTPException(status_code=404, detail=f"unknown zip code {zipcode}")
    response.raise_for_status()
    return dict(response.json())


@app.post("/predict")
async def predict(house: House) -> dict[str, object]:
    neighbourhood = await neighbourhood_features(house.zipcode)
    row = {"rooms": house.rooms, "area_m2": house.area_m2, "year_built": house.year_built, **neighbourhood}
    with tracer.start_as_current_span("inference") as span:
        span.set_attributes({"ml.model.name": MODEL_NAME, "ml.model.version": MODEL_VERSION})
        span.set_attributes({f"ml.input.{name}": row[name] for name in FEATURES})
        # In a worker thread (asyncio.to_thread copies the context): the event loop keeps serving other requests.
        value = float((await asyncio.to_thread(_model.predict, [[row[name] for name in FEATURES]]))[0])
        span.set_attribute("ml.prediction", round(value, 2))
    predicted.record(value, {"ml.model.name": MODEL_NAME, "ml.model.version": MODEL_VERSION})
    log.info("predicted %.0f for a %d-room house in %s", value, house.rooms, house.zipcode,
             extra={"zipcode": house.zipcode, "ml.prediction": round(value, 2)})  # fmt: skip
    return {"price": round(value, 2), "model": MODEL_NAME, "version": MODEL_VERSION}


FastAPIInstrumentor.instrument_app(app, excluded_urls="health", exclude_spans=["receive", "send"])
