"""call intervals kept live for reports: report figures per cell, the retention cutoff, and the
cells of every record already kept (backfill)

From here on the record store adds each record to its 15-minute cell when it saves it, and
retention only deletes records (metrics/records/intervals.py, metrics/records/store.py,
metrics/records/retention.py).
This migration gives ``call_intervals`` the figures reports need, creates ``call_retention``
(the cutoff both lock), and adds every record still in ``call_records`` to its cell, a week of
records per statement, in the migration's one transaction (a failed run changes nothing). Cells
that retention made before (of records since deleted) keep their figures; reports cannot use
them (their report figures are 0: those records were never in a report since they were gone),
and their threshold is unknown (``sl_seconds`` = -1).

The contribution of a record is written out here in SQL, frozen with this revision: it must
stay what it is now even if metrics/records/intervals.py changes later. tests/metrics/records/test_backfill.py
checks that it equals the store's.

Revision ID: 0006
Revises: 0005
"""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ANSWER_LADDER = (5, 10, 15, 20, 25, 30, 45, 60, 90, 120, 180, 300)
SHORT_ABANDON_LADDER = (2, 3, 5, 10, 15, 20, 30)
DEFAULT_THRESHOLD = 20.0  # the settings' default; a queue the live IVR names gets its own
MIXED = -1.0
CHUNK = timedelta(days=7)
QUARTER = timedelta(minutes=15)
_KEYS = ("interval_start", "node", "topic", "queue")
_COUNTS = (
    "calls",
    "offered",
    "answered",
    "abandoned_in_queue",
    "abandoned_in_ivr",
    "referred",
    "failed",
    "after_hours",
    "overflowed",
    "escalated",
    "answered_within_sl",
    "report_offered",
    "handled",
    *(f"answered_within_{t}s" for t in ANSWER_LADDER),
    *(f"short_abandoned_{s}s" for s in SHORT_ABANDON_LADDER),
)
_SUMS = ("wait_seconds_sum", "talk_seconds_sum", "answered_wait_sum", "handle_seconds_sum")
_NEW_INTEGERS = (
    "report_offered",
    "handled",
    *(f"answered_within_{t}s" for t in ANSWER_LADDER),
    *(f"short_abandoned_{s}s" for s in SHORT_ABANDON_LADDER),
)

records = sa.table(
    "call_records",
    sa.column("started_at", sa.DateTime(timezone=True)),
    sa.column("node", sa.String),
    sa.column("topic", sa.String),
    sa.column("queue", sa.String),
    sa.column("outcome", sa.String),
    sa.column("queue_entered_at", sa.DateTime(timezone=True)),
    sa.column("wait_seconds", sa.Float),
    sa.column("talk_seconds", sa.Float),
    sa.column("wrapup_seconds", sa.Float),
    sa.column("after_hours", sa.Boolean),
    sa.column("overflowed", sa.Boolean),
    sa.column("escalated", sa.Boolean),
)
cells = sa.table(
    "call_intervals",
    sa.column("interval_start", sa.DateTime(timezone=True)),
    *(sa.column(name, sa.String) for name in _KEYS[1:]),
    *(sa.column(name, sa.Integer) for name in _COUNTS),
    *(sa.column(name, sa.Float) for name in (*_SUMS, "max_wait_seconds", "longest_wait", "sl_seconds")),
)
retention = sa.table(
    "call_retention", sa.column("id", sa.Integer), sa.column("cutoff", sa.DateTime(timezone=True))
)


def upgrade() -> None:
    with op.batch_alter_table("call_intervals") as batch:
        batch.add_column(sa.Column("sl_seconds", sa.Float, nullable=True))
        for name in ("answered_wait_sum", "handle_seconds_sum"):
            batch.add_column(sa.Column(name, sa.Float, nullable=False, server_default="0"))
        batch.add_column(sa.Column("longest_wait", sa.Float, nullable=True))
        for name in _NEW_INTEGERS:
            batch.add_column(sa.Column(name, sa.Integer, nullable=False, server_default="0"))
    bind = op.get_bind()
    bind.execute(sa.update(cells).where(cells.c.answered > 0).values(sl_seconds=MIXED))
    op.create_table(
        "call_retention",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("cutoff", sa.DateTime(timezone=True), nullable=True),
    )
    bind.execute(sa.insert(retention).values(id=1, cutoff=_first_cutoff(bind)))
    _for_every_chunk(bind, lambda start, end: bind.execute(_add(bind, start, end, _thresholds(bind))))


def downgrade() -> None:
    """Take the kept records out of the cells again (retention before 0006 adds them when it
    deletes them; maxima stay as they are, upper bounds), then drop what 0006 added."""
    bind = op.get_bind()
    _for_every_chunk(bind, lambda start, end: bind.execute(_take_out(bind, start, end)))
    bind.execute(sa.delete(cells).where(cells.c.calls == 0))
    op.drop_table("call_retention")
    with op.batch_alter_table("call_intervals") as batch:
        for name in (*_NEW_INTEGERS, "longest_wait", "handle_seconds_sum", "answered_wait_sum", "sl_seconds"):
            batch.drop_column(name)


def _first_cutoff(bind: Any) -> datetime | None:
    """After the last quarter-hour retention has made a cell of: a record of it may already be
    counted there, so the store must refuse it."""
    last = bind.execute(sa.select(sa.func.max(cells.c.interval_start))).scalar()
    if last is None:
        return None
    return _utc(last) + QUARTER


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _thresholds(bind: Any) -> dict[str, float]:
    """Each queue's service-level seconds in the live IVR version (none yet: the default)."""
    row = bind.execute(
        sa.text(
            "SELECT v.document FROM ivr_activations a JOIN ivr_versions v ON v.number = a.version"
            " ORDER BY a.id DESC LIMIT 1"
        )
    ).first()
    if row is None:
        return {}
    try:
        queues = json.loads(row[0]).get("queues", [])
        return {str(q["name"]): float(q.get("service_level_seconds", DEFAULT_THRESHOLD)) for q in queues}
    except (ValueError, TypeError, KeyError, AttributeError):
        return {}


def _for_every_chunk(bind: Any, run: Any) -> None:
    """``run(start, end)`` for each week of records that holds any, in time order."""
    first = bind.execute(sa.select(sa.func.min(records.c.started_at))).scalar()
    while first is not None:
        start = _quarter_floor(_utc(first))
        end = start + CHUNK
        run(start, end)
        first = bind.execute(
            sa.select(sa.func.min(records.c.started_at)).where(records.c.started_at >= end)
        ).scalar()


def _quarter_floor(at: datetime) -> datetime:
    return at.replace(minute=at.minute // 15 * 15, second=0, microsecond=0)


def _quarter(dialect: str) -> Any:
    """The UTC quarter-hour of started_at, as the store writes it (SQLite: SQLAlchemy's text)."""
    if dialect == "postgresql":
        return sa.func.to_timestamp(sa.func.floor(sa.extract("epoch", records.c.started_at) / 900) * 900)
    at = "call_records.started_at"
    return sa.literal_column(
        f"strftime('%Y-%m-%d %H:', {at})"
        f" || printf('%02d', CAST(strftime('%M', {at}) AS INTEGER) / 15 * 15) || ':00.000000'"
    )


def _figures(thresholds: dict[str, float]) -> dict[str, Any]:
    """Each column's aggregate over a cell's records: the contribution of metrics/records/intervals.py."""
    c = records.c
    wait = sa.func.coalesce(c.wait_seconds, 0.0)
    entered = c.queue_entered_at.is_not(None)
    answered = c.outcome == "answered"
    abandoned = c.outcome == "abandoned_in_queue"
    offered = sa.or_(entered, c.outcome.in_(("answered", "abandoned_in_queue")))
    handled = sa.and_(answered, c.talk_seconds.is_not(None))
    queue = sa.func.coalesce(c.queue, "")
    threshold: Any = (
        sa.case(thresholds, value=queue, else_=DEFAULT_THRESHOLD) if thresholds else DEFAULT_THRESHOLD
    )
    ends = ("answered", "abandoned_in_queue", "abandoned_in_ivr", "referred")

    def count(condition: Any) -> Any:
        return sa.func.sum(sa.case((condition, 1), else_=0))

    def total(condition: Any, value: Any) -> Any:
        return sa.func.sum(sa.case((condition, value), else_=0.0))

    figures: dict[str, Any] = {
        "calls": sa.func.count(),
        "offered": count(entered),
        **{name: count(c.outcome == name) for name in ends},
        "failed": count(c.outcome.not_in(ends)),
        "after_hours": count(c.after_hours),
        "overflowed": count(c.overflowed),
        "escalated": count(c.escalated),
        "answered_within_sl": count(sa.and_(answered, wait <= threshold)),
        "wait_seconds_sum": total(entered, wait),
        "talk_seconds_sum": total(answered, sa.func.coalesce(c.talk_seconds, 0.0)),
        "max_wait_seconds": sa.func.coalesce(sa.func.max(sa.case((entered, wait))), 0.0),
        "sl_seconds": sa.func.max(sa.case((answered, threshold))),
        "report_offered": count(offered),
        "answered_wait_sum": total(answered, wait),
        "handled": count(handled),
        "handle_seconds_sum": total(handled, c.talk_seconds + sa.func.coalesce(c.wrapup_seconds, 0.0)),
        "longest_wait": sa.func.max(sa.case((offered, c.wait_seconds))),
    }
    for t in ANSWER_LADDER:
        figures[f"answered_within_{t}s"] = count(sa.and_(answered, wait <= t))
    for s in SHORT_ABANDON_LADDER:
        figures[f"short_abandoned_{s}s"] = count(sa.and_(abandoned, wait < s))
    return figures


def _grouped(bind: Any, start: datetime, end: datetime, figures: dict[str, Any]) -> Any:
    c = records.c
    keys = [
        _quarter(bind.dialect.name),
        c.node,
        sa.func.coalesce(c.topic, ""),
        sa.func.coalesce(c.queue, ""),
    ]
    return (
        sa.select(*keys, *figures.values()).where(c.started_at >= start, c.started_at < end).group_by(*keys)
    )


def _insert(bind: Any) -> Any:
    return pg_insert if bind.dialect.name == "postgresql" else sqlite_insert


def _add(bind: Any, start: datetime, end: datetime, thresholds: dict[str, float]) -> Any:
    """The records of [start, end) added to their cells (the store's ``add_cells`` rules)."""
    figures = _figures(thresholds)
    statement = _insert(bind)(cells).from_select([*_KEYS, *figures], _grouped(bind, start, end, figures))
    new = statement.excluded
    changed: dict[str, Any] = {name: cells.c[name] + new[name] for name in (*_COUNTS, *_SUMS)}
    for name in ("max_wait_seconds", "longest_wait"):
        a, b = cells.c[name], new[name]
        changed[name] = (
            sa.func.greatest(a, b)
            if bind.dialect.name == "postgresql"
            else sa.func.coalesce(sa.func.max(a, b), a, b)
        )
    mine = cells.c.sl_seconds
    changed["sl_seconds"] = sa.case(
        (new.sl_seconds.is_(None), mine),
        (mine.is_(None), new.sl_seconds),
        (mine == new.sl_seconds, mine),
        else_=MIXED,
    )
    return statement.on_conflict_do_update(index_elements=list(_KEYS), set_=changed)


def _take_out(bind: Any, start: datetime, end: datetime) -> Any:
    """The records of [start, end) taken out of their cells (the columns of 0005 only)."""
    figures = _figures({})
    kept = {name: figures[name] for name in (*_COUNTS[:11], *_SUMS[:2])}
    negated = {name: -value for name, value in kept.items()}
    statement = _insert(bind)(cells).from_select([*_KEYS, *negated], _grouped(bind, start, end, negated))
    changed = {name: cells.c[name] + statement.excluded[name] for name in negated}
    return statement.on_conflict_do_update(index_elements=list(_KEYS), set_=changed)
