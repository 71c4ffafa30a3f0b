"""The example's data: neighbourhood features per zip code, and a seeded training set. No downloads."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

ZIP_CODES = [f"9{n:04d}" for n in range(1, 121)]  # 120 neighbourhoods
FEATURES = ("rooms", "area_m2", "year_built", "median_income", "school_score", "distance_km")


@dataclass(frozen=True)
class Neighbourhood:
    median_income: float  # thousands a year
    school_score: float  # 0–10
    distance_km: float  # to the city centre


def neighbourhood(zipcode: str) -> Neighbourhood:
    """The same numbers for a zip code every time, in every process."""
    rng = random.Random(f"zip-{zipcode}")
    distance = rng.uniform(1.0, 40.0)
    income = max(20.0, rng.gauss(95.0 - 1.2 * distance, 18.0))
    return Neighbourhood(round(income, 1), round(min(10.0, max(1.0, rng.gauss(6.5, 1.6))), 1), round(distance, 1))


def price(rooms: int, area_m2: float, year_built: int, n: Neighbourhood, rng: random.Random) -> float:
    """The market's (hidden) price rule, with noise."""
    base = 2_600 * area_m2 + 14_000 * rooms + 3_100 * n.median_income + 9_000 * n.school_score
    age_discount = 900 * max(0, 2025 - year_built)
    return max(40_000.0, (base - age_discount - 4_200 * n.distance_km) * rng.lognormvariate(0, 0.08))


def training_set(rows: int = 3000, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Seeded houses across every zip code: features in ``FEATURES`` order, and their sale prices."""
    rng = random.Random(seed)
    x, y = [], []
    for _ in range(rows):
        n = neighbourhood(rng.choice(ZIP_CODES))
        rooms = rng.randint(1, 7)
        area = round(rng.uniform(25, 45) * rooms, 1)
        year = rng.randint(1920, 2024)
        x.append([rooms, area, year, n.median_income, n.school_score, n.distance_km])
        y.append(price(rooms, area, year, n, rng))
    return np.array(x), np.array(y)
