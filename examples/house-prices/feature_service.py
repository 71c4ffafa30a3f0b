"""feature-service: neighbourhood features by zip code, read from a cache or (slowly) from a cold store.

    uvicorn feature_service:app --port 8001

``FEATURES_SLOW_SHARE`` (0–1, default 0) of the lookups miss the cache and take ``FEATURES_SLOW_MS`` more
(default 300): the break the README finds with tracectl.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException
from housing import ZIP_CODES, neighbourhood
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from telemetry import setup

SLOW_SHARE = float(os.environ.get("FEATURES_SLOW_SHARE", "0"))
SLOW_MS = float(os.environ.get("FEATURES_SLOW_MS", "300"))
_rng = random.Random(int(os.environ.get("FEATURES_SEED", "11")))

telemetry = setup("feature-service")
log = telemetry.logger
tracer = trace.get_tracer("house_prices.features", "1.4.0")


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    log.info("feature-service ready: %d zip codes, slow share %.2f", len(ZIP_CODES), SLOW_SHARE)
    yield
    telemetry.shutdown()


app = FastAPI(title="feature-service", lifespan=lifespan)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/features/{zipcode}")
async def features(zipcode: str) -> dict[str, float]:
    if zipcode not in ZIP_CODES:
        log.warning("unknown zip code %s", zipcode, extra={"zipcode": zipcode})
        raise HTTPException(status_code=404, detail=f"no features for zip code {zipcode}")
    with tracer.start_as_current_span("feature lookup") as span:
        cold = _rng.random() < SLOW_SHARE
        span.set_attribute("feature.zipcode", zipcode)
        span.set_attribute("feature.source", "cold-store" if cold else "cache")
        await asyncio.sleep(0.002 + _rng.random() * 0.002)
        if cold:
            await asyncio.sleep(SLOW_MS / 1000 * _rng.uniform(0.8, 1.2))
            log.warning("cache miss for %s: read the cold store", zipcode, extra={"zipcode": zipcode})
        n = neighbourhood(zipcode)
    log.info("features built for %s", zipcode, extra={"zipcode": zipcode})
    return {"median_income": n.median_income, "school_score": n.school_score, "distance_km": n.distance_km}


FastAPIInstrumentor.instrument_app(app, excluded_urls="health", exclude_spans=["receive", "send"])
