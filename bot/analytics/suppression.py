"""k-anonymity: every published count of people is ≥ K or hidden (None, shown as '<5')."""

from __future__ import annotations

from collections.abc import Mapping

K = 5


def suppress(n: int) -> int | None:
    """A count of people, or None when fewer than K (zero included: 'fewer than five')."""
    return n if n >= K else None


def suppress_partition(counts: Mapping[str, int]) -> dict[str, int | None]:
    """Suppress cells < K, then more (smallest first) until the hidden cells together hold
    none or at least K people, so subtracting from the total reveals no small group."""
    out: dict[str, int | None] = {key: suppress(n) for key, n in counts.items()}
    hidden = [key for key, v in out.items() if v is None]
    if not hidden:
        return out
    visible = sorted((n, key) for key, n in counts.items() if out[key] is not None)
    while visible and 0 < sum(counts[h] for h in hidden) < K:
        _, key = visible.pop(0)
        out[key] = None
        hidden.append(key)
    return out


def cell(value: int | None) -> str:
    return "<5" if value is None else str(value)
