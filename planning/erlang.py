"""Queueing formulas for staffing: Erlang B, Erlang C (M/M/n) and Erlang A (M/M/n+M).

Times are in seconds; ``rate`` is arrivals per second, ``handle`` the mean handle time, the load
A = rate x handle (Erlang), ``patience`` the callers' mean patience (theta = 1 / patience).

Numerics. Erlang B by its recursion B(n) = A B(n-1) / (n + A B(n-1)) for one value, and in log
space (log A^n/n! minus a running log-sum-exp) for a whole table. Erlang A from the birth-death
chain of M/M/n+M: with x = n mu / theta and y = lambda / theta the waiting states weigh
B * J where J = S(x, y) = sum_k prod_{i<=k} y / (x + i), summed in log space; then
P(W > 0) = B J / (1 - B + B J) and P(Ab | W > 0) = 1 - 1/rho + 1/(rho J), rho = lambda / (n mu).
An arrival that waits behind j others has an offered wait that is a sum of exponentials with
rates n mu + k theta (k = j..0); over the chain this gives the closed form used for the service
level (answered within T, over all arrivals):
SL = 1 - P(W > 0) [P(Ab | W > 0) + x/(x+1) e^{y - z - (x+1) theta T} S(x+1, z) / S(x, y)],
z = y e^{-theta T}. The mean wait of all arrivals is P(Ab) / theta (Little's law on the queue).

Staffing searches the fewest agents meeting every target by bisection, vectorised over all
cells (intervals x queues) at once: every measure is monotone in n.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Measures = dict[str, Floats]
_RESCALE = 1e200
_PLAIN_LIMIT = 600.0
_LOG_RESCALE = math.log(_RESCALE)
# Callers so patient that more than this many arrive within one mean patience: abandonment is
# negligible and the series would be long, so Erlang C.
PATIENCE_ARRIVALS_LIMIT = 20_000.0


@dataclass(frozen=True)
class Performance:
    agents: int
    wait_probability: float  # P(W > 0): an arrival finds every agent busy
    service_level: float  # share of all arrivals answered within the target time
    asa: float  # mean wait of all arrivals (abandoners until they leave), seconds
    abandon_probability: float  # 0 for Erlang C
    occupancy: float  # busy share of the agents' time


@dataclass(frozen=True)
class Targets:
    service_level: float = 0.8  # this share of calls answered ...
    answer_within: float = 20.0  # ... within this many seconds
    max_abandon: float | None = None  # Erlang A only: at most this share abandons
    max_occupancy: float = 0.85  # the burnout cap
    shrinkage: float = 0.3  # share of paid time off the phones (breaks, training, debriefs)


@dataclass(frozen=True)
class Staffing:
    agents: int  # on the phones at once
    positions: int  # rostered: agents / (1 - shrinkage), rounded up
    performance: Performance


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of M/M/n/n, by the recursion."""
    if agents < 0 or load < 0:
        raise ValueError("agents and load must not be negative")
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = load * blocking / (n + load * blocking)
    return blocking


def log_erlang_b_table(load: Floats, max_agents: int) -> Floats:
    """log B(n, A) for each load (rows) and n = 0..max_agents (columns); loads must be > 0."""
    n = np.arange(max_agents + 1, dtype=np.float64)
    log_fact = np.concatenate(([0.0], np.cumsum(np.log(n[1:]))))
    terms = n[None, :] * np.log(load)[:, None] - log_fact[None, :]
    return np.asarray(terms - np.logaddexp.accumulate(terms, axis=1), dtype=np.float64)


def erlang_b_capacity(lines: int, blocking: float) -> float:
    """The traffic (Erlang) that ``lines`` carry at this blocking probability (bisection)."""
    low, high = 0.0, lines / max(1e-12, 1.0 - blocking) + 10.0
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if erlang_b(lines, mid) < blocking else (low, mid)
    return (low + high) / 2


def erlang_c(agents: int, load: float) -> float:
    """P(W > 0) in M/M/n; 1 when the agents cannot keep up (n <= A)."""
    if agents <= load:
        return 1.0
    b = erlang_b(agents, load)
    return agents * b / (agents - load * (1 - b))


def _log_series(x: Floats, z: Floats) -> Floats:
    """log S(x, z), S = sum_k prod_{i=1..k} z / (x + i) (the k = 0 term is 1), elementwise.

    The terms grow while x + i < z, then fall at least like exp(-m^2 / 2z): max(z - x, 0)
    + 12 sqrt(z) + 40 terms reach below 1e-17 of the sum. Horner's scheme from the last term,
    S_i = 1 + z / (x + i) S_{i+1}, kept as m e^L so that nothing overflows.
    """
    if not z.size or float(z.max()) <= 0:
        return np.zeros_like(x)
    terms = int(np.max(np.maximum(z - x, 0) + 12 * np.sqrt(z)) + 40)
    if float(z.max()) < _PLAIN_LIMIT:  # S(x, z) <= e^z: plain floats suffice
        total = np.ones_like(x)
        for i in range(terms, 0, -1):
            total = 1 + z / (x + i) * total
        return np.asarray(np.log(total), dtype=np.float64)
    mantissa, scale = np.ones_like(x), np.zeros_like(x)
    for i in range(terms, 0, -1):
        mantissa = np.exp(-scale) + z / (x + i) * mantissa
        big = mantissa > _RESCALE
        if big.any():
            mantissa = np.where(big, mantissa / _RESCALE, mantissa)
            scale = np.where(big, scale + _LOG_RESCALE, scale)
    return np.asarray(np.log(mantissa) + scale, dtype=np.float64)


@dataclass(frozen=True)
class Cells:
    """Intervals x queues flattened: one entry per cell (all rates > 0, handles > 0)."""

    rate: Floats
    handle: Floats
    patience: Floats  # inf: Erlang C
    answer_within: float

    @property
    def load(self) -> Floats:
        return np.asarray(self.rate * self.handle, dtype=np.float64)


def erlang_c_measures(cells: Cells, n: Floats, log_b: Floats) -> Measures:
    load = cells.load
    stable = n > load
    gap = np.where(stable, n - load, 1.0)
    b = np.exp(log_b)
    c = np.where(stable, n * b / np.where(stable, n - load * (1 - b), 1.0), 1.0)
    level = np.where(stable, 1 - c * np.exp(-gap * cells.answer_within / cells.handle), 0.0)
    return {
        "wait_probability": c,
        "service_level": level,
        "abandon_probability": np.zeros_like(n),
        "asa": np.where(stable, c * cells.handle / gap, np.inf),
        "occupancy": np.minimum(load / n, 1.0),
    }


def erlang_a_measures(cells: Cells, n: Floats, log_b: Floats) -> Measures:
    theta = 1.0 / cells.patience
    x = n * cells.patience / cells.handle
    y = cells.rate * cells.patience
    z = y * np.exp(-theta * cells.answer_within)
    log_j = _log_series(x, y)
    log_rest = np.log1p(-np.minimum(np.exp(log_b), 1 - 1e-16))  # log(1 - B)
    wait = 1 / (1 + np.exp(log_rest - log_b - log_j))
    rho = y / x
    abandon_if_wait = np.clip(1 - 1 / rho + np.exp(-log_j) / rho, 0.0, 1.0)
    late = np.exp(y - z - (x + 1) * theta * cells.answer_within + _log_series(x + 1, z) - log_j)
    abandon = wait * abandon_if_wait
    return {
        "wait_probability": wait,
        "service_level": np.clip(1 - wait * (abandon_if_wait + x / (x + 1) * late), 0.0, 1.0),
        "abandon_probability": abandon,
        "asa": abandon * cells.patience,
        "occupancy": cells.load * (1 - abandon) / n,
    }


def measures(cells: Cells, n: Floats, log_b_table: Floats) -> Measures:
    """Every measure of each cell at n[cell] agents (n >= 1); Erlang C where patience is inf."""
    rows = np.arange(n.size)
    log_b = log_b_table[rows, n.astype(np.int64)]
    result = erlang_c_measures(cells, n, log_b)
    finite = np.isfinite(cells.patience) & (cells.rate * cells.patience <= PATIENCE_ARRIVALS_LIMIT)
    if finite.any():
        sub = Cells(cells.rate[finite], cells.handle[finite], cells.patience[finite], cells.answer_within)
        for name, values in erlang_a_measures(sub, n[finite], log_b[finite]).items():
            result[name][finite] = values
    return result


def _fits(m: Measures, targets: Targets) -> npt.NDArray[np.bool_]:
    ok = (m["service_level"] >= targets.service_level) & (m["occupancy"] <= targets.max_occupancy + 1e-12)
    if targets.max_abandon is not None:
        ok &= m["abandon_probability"] <= targets.max_abandon
    return np.asarray(ok)


def _bisect(fits: Callable[[Floats], npt.NDArray[np.bool_]], low: Floats, high: Floats) -> Floats:
    """Smallest n in (low, high] with fits(n), given fits(high) and not fits(low), per cell."""
    while (open_ := high - low > 1).any():
        mid = np.where(open_, np.floor((low + high) / 2), high)
        ok = fits(mid)
        high = np.where(open_ & ok, mid, high)
        low = np.where(open_ & ~ok, mid, low)
    return high


def staff_many(cells: Cells, targets: Targets) -> tuple[Floats, Measures]:
    """Fewest agents per cell meeting every target, and the measures at that number."""
    load = cells.load
    high = np.ceil(load / targets.max_occupancy + 6 * np.sqrt(load) + 8)
    while True:
        table = log_erlang_b_table(load, int(high.max()))
        ok = _fits(measures(cells, high, table), targets)
        if ok.all():
            break
        high = np.where(ok, high, high * 2)
    agents = _bisect(lambda n: _fits(measures(cells, n, table), targets), np.zeros_like(high), high)
    return agents, measures(cells, agents, table)


def staff(rate: float, handle: float, targets: Targets, patience: float | None = None) -> Staffing:
    """One cell: Erlang A when a patience is known, else Erlang C."""
    if rate <= 0 or handle <= 0:
        return Staffing(0, 0, Performance(0, 0.0, 1.0, 0.0, 0.0, 0.0))
    one = np.array([1.0])
    cells = Cells(one * rate, one * handle, one * (patience or math.inf), targets.answer_within)
    agents, m = staff_many(cells, targets)
    return staffing(int(agents[0]), {k: v[:1] for k, v in m.items()}, 0, targets)


def staffing(agents: int, m: Measures, index: int, targets: Targets) -> Staffing:
    performance = Performance(
        agents,
        float(m["wait_probability"][index]),
        float(m["service_level"][index]),
        float(m["asa"][index]),
        float(m["abandon_probability"][index]),
        float(m["occupancy"][index]),
    )
    return Staffing(agents, positions(agents, targets.shrinkage), performance)


def positions(agents: int, shrinkage: float) -> int:
    return math.ceil(agents / (1 - shrinkage) - 1e-9)


def performance(
    agents: int, rate: float, handle: float, answer_within: float, patience: float | None = None
) -> Performance:
    """The measures of one cell at a given number of agents (Erlang A if a patience is given)."""
    one = np.array([1.0])
    cells = Cells(one * rate, one * handle, one * (patience or math.inf), answer_within)
    m = measures(cells, one * agents, log_erlang_b_table(cells.load, agents))
    return staffing(agents, m, 0, Targets(shrinkage=0.0)).performance
