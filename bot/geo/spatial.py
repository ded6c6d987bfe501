"""A uniform grid index over points: radius and nearest queries without scanning everything.

The Netherlands is small and points are dense, so a fixed grid of square-ish cells (a few
kilometres) beats a tree in simplicity and speed: a radius query touches only the cells that
overlap the circle's bounding box and measures exact distances for the points in them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from bot.geo.distance import EARTH_RADIUS_KM, FloatArray, haversine_many_km

IntArray = npt.NDArray[np.int64]

KM_PER_DEGREE_LAT = 111.32


class GridIndex:
    """Points (lat, lon) in cells of about `cell_km`; queries return point positions."""

    def __init__(
        self,
        lats: Sequence[float] | FloatArray,
        lons: Sequence[float] | FloatArray,
        cell_km: float = 5.0,
    ) -> None:
        self.lats: FloatArray = np.asarray(lats, dtype=np.float64)
        self.lons: FloatArray = np.asarray(lons, dtype=np.float64)
        if self.lats.shape != self.lons.shape:
            raise ValueError("lats and lons differ in length")
        self.cell_km = cell_km
        # Precomputed for the haversine in queries (radians, cosine of latitude).
        self._rlat = np.radians(self.lats)
        self._rlon = np.radians(self.lons)
        self._cos = np.cos(self._rlat)
        mid_lat = float(np.mean(self.lats)) if len(self.lats) else 52.2
        self._dlat = cell_km / KM_PER_DEGREE_LAT
        self._dlon = cell_km / (KM_PER_DEGREE_LAT * max(0.1, math.cos(math.radians(mid_lat))))
        self._cells: dict[tuple[int, int], IntArray] = {}
        if len(self.lats):
            rows = np.floor(self.lats / self._dlat).astype(np.int64)
            cols = np.floor(self.lons / self._dlon).astype(np.int64)
            order = np.lexsort((cols, rows))
            keys = np.stack([rows[order], cols[order]], axis=1)
            starts = np.flatnonzero(np.any(np.diff(keys, axis=0) != 0, axis=1)) + 1
            bounds = [0, *starts.tolist(), len(order)]
            for a, b in itertools.pairwise(bounds):
                self._cells[(int(keys[a, 0]), int(keys[a, 1]))] = order[a:b]
            # np.min/np.max, not the methods: numpy 2.5's stubs reject a bare `.min()` on NDArray.
            self._row_range = (int(np.min(rows)), int(np.max(rows)))
            self._col_range = (int(np.min(cols)), int(np.max(cols)))
        else:
            self._row_range = (0, -1)
            self._col_range = (0, -1)

    def __len__(self) -> int:
        return int(self.lats.shape[0])

    def _candidates(self, lat: float, lon: float, radius_km: float) -> IntArray:
        dlat = radius_km / KM_PER_DEGREE_LAT
        dlon = radius_km / (KM_PER_DEGREE_LAT * max(0.1, math.cos(math.radians(lat))))
        r0 = max(math.floor((lat - dlat) / self._dlat), self._row_range[0])
        r1 = min(math.floor((lat + dlat) / self._dlat), self._row_range[1])
        c0 = max(math.floor((lon - dlon) / self._dlon), self._col_range[0])
        c1 = min(math.floor((lon + dlon) / self._dlon), self._col_range[1])
        if r0 > r1 or c0 > c1:
            return np.empty(0, dtype=np.int64)
        cells = self._cells
        parts = [
            cell
            for r in range(r0, r1 + 1)
            for c in range(c0, c1 + 1)
            if (cell := cells.get((r, c))) is not None
        ]
        if not parts:
            return np.empty(0, dtype=np.int64)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def within(self, lat: float, lon: float, radius_km: float) -> tuple[IntArray, FloatArray]:
        """Positions of the points within `radius_km` and their distances (unsorted)."""
        idx = self._candidates(lat, lon, radius_km)
        if not len(idx):
            return idx, np.empty(0, dtype=np.float64)
        p1, l1 = math.radians(lat), math.radians(lon)
        half_dp = (self._rlat[idx] - p1) * 0.5
        half_dl = (self._rlon[idx] - l1) * 0.5
        a = np.sin(half_dp) ** 2 + math.cos(p1) * self._cos[idx] * np.sin(half_dl) ** 2
        dist = (2 * EARTH_RADIUS_KM) * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
        keep = dist <= radius_km
        return idx[keep], dist[keep]

    def nearest(self, lat: float, lon: float, k: int = 1) -> tuple[IntArray, FloatArray]:
        """The `k` nearest points, closest first (grows the search ring until it has them)."""
        n = len(self)
        if n == 0 or k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        k = min(k, n)
        radius = self.cell_km
        while True:
            idx, dist = self.within(lat, lon, radius)
            if len(idx) >= k or radius > 2000:
                break
            radius *= 2
        if len(idx) < k:  # a point far outside the grid: measure everything
            idx = np.arange(n, dtype=np.int64)
            dist = haversine_many_km(lat, lon, self.lats, self.lons)
        order = np.argsort(dist, kind="stable")[:k]
        return idx[order], dist[order]
