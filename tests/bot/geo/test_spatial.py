"""The grid index agrees with a plain scan."""

from __future__ import annotations

import random

import numpy as np

from bot.geo.distance import haversine_km
from bot.geo.spatial import GridIndex


def test_within_and_nearest_match_a_full_scan() -> None:
    rnd = random.Random(7)
    pts = [(rnd.uniform(50.8, 53.5), rnd.uniform(3.4, 7.2)) for _ in range(3000)]
    index = GridIndex([p[0] for p in pts], [p[1] for p in pts], cell_km=4.0)
    for _ in range(30):
        lat, lon, radius = rnd.uniform(50.8, 53.5), rnd.uniform(3.4, 7.2), rnd.uniform(1, 40)
        idx, dist = index.within(lat, lon, radius)
        expected = {i for i, p in enumerate(pts) if haversine_km(lat, lon, *p) <= radius}
        assert set(idx.tolist()) == expected
        assert np.all(dist <= radius)
        near, nd = index.nearest(lat, lon, 3)
        scan = sorted(range(len(pts)), key=lambda i: haversine_km(lat, lon, *pts[i]))[:3]
        assert near.tolist() == scan
        assert list(nd) == sorted(nd)


def test_empty_index() -> None:
    index = GridIndex([], [])
    idx, dist = index.within(52.0, 5.0, 10)
    assert len(idx) == 0 and len(dist) == 0
    assert len(index.nearest(52.0, 5.0)[0]) == 0
