"""The audit log's chain (core/audit.py) on SQLite and PostgreSQL: entries saved in order and
linked; an entry edited, removed or re-linked is found and named; a replay saves nothing twice;
retention keeps a verifiable tail; two writers at once still make one chain (PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from core.audit import CODEC, GENESIS, HASHED, AuditEntry, AuditLog, AuditStore, entry_hash, verify
from core.journal import Journal


def entry(n: int, actor: str = "op-anna", at: datetime | None = None) -> AuditEntry:
    return AuditEntry(
        actor=actor,
        role="shift_lead",
        address="192.0.2.10",
        action="PATCH /api/operators/{operator_id}",
        target=f"operator_id=op-{n}",
        status=200,
        details={"role": {"before": "operator", "after": "senior"}, "n": n},
        at=at or datetime.now(UTC),
    )


def test_entries_are_chained_and_verify(database: Engine) -> None:
    store = AuditStore(database)
    store.save_many([entry(1), entry(2)])
    store.save_many([entry(3)])
    rows = list(store.rows())
    assert [r.seq for r in rows] == [1, 2, 3] and rows[0].prev_hash == GENESIS
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    verdict = verify(store)
    assert verdict.ok and verdict.checked == 3, verdict
    assert verdict.line() == "audit chain intact: 3 entries from the beginning"
    got = store.entries(actor="op-anna", action="/api/operators")
    assert [e["target"] for e in got] == ["operator_id=op-1", "operator_id=op-2", "operator_id=op-3"]
    assert got[0]["details"] == {"n": 1, "role": {"after": "senior", "before": "operator"}}


@pytest.mark.parametrize(
    ("tamper", "says"),
    [
        ("UPDATE audit_log SET actor = 'op-boris' WHERE seq = 2", "entry 2 was changed after it was written"),
        ("UPDATE audit_log SET details = '{}' WHERE seq = 3", "entry 3 was changed after it was written"),
        ("DELETE FROM audit_log WHERE seq = 2", "entries 2 to 2 are missing"),
        ("UPDATE audit_log SET status = 500 WHERE seq = 4", "entry 4 was changed after it was written"),
    ],
)
def test_a_tampered_entry_is_found_and_named(database: Engine, tamper: str, says: str) -> None:
    store = AuditStore(database)
    store.save_many([entry(n) for n in range(1, 5)])
    with database.begin() as conn:
        conn.execute(text(tamper))
    verdict = verify(store)
    assert not verdict.ok and says in verdict.problem, verdict
    assert verdict.line().startswith("audit chain BROKEN: ")


def test_an_entry_rewritten_with_a_fresh_hash_breaks_the_next_link(database: Engine) -> None:
    """Whoever edits an entry and recomputes its hash still cannot fix the entry after it."""
    store = AuditStore(database)
    store.save_many([entry(n) for n in range(1, 4)])
    row = next(r for r in store.rows() if r.seq == 2)
    fields = {c: getattr(row, c) for c in HASHED}
    forged = entry_hash(2, {**fields, "actor": "op-boris"}, row.prev_hash)
    with database.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'op-boris', hash = :h WHERE seq = 2"), {"h": forged})
    verdict = verify(store)
    assert not verdict.ok and "entry 3 does not follow entry 2" in verdict.problem, verdict


def test_an_entry_saved_twice_is_kept_once(database: Engine) -> None:
    store = AuditStore(database)
    first = [entry(1), entry(2)]
    store.save_many(first)
    store.save_many([*first, entry(3)])  # a replay after a crash: the first two again
    assert [r.seq for r in store.rows()] == [1, 2, 3] and verify(store).ok


def test_retention_keeps_a_verifiable_tail(database: Engine) -> None:
    store = AuditStore(database)
    old = datetime.now(UTC) - timedelta(days=800)
    store.save_many([entry(1, at=old), entry(2, at=old), entry(3)])
    assert store.prune(timedelta(days=730)) == 2
    verdict = verify(store)
    assert verdict.ok and verdict.first_seq == 3, verdict
    assert "from entry 3 (older ones removed by retention)" in verdict.line()
    store.save_many([entry(4)])
    assert verify(store).ok
    # Everything old: the newest entry still stays, so the chain keeps its tail.
    assert store.prune(timedelta(days=30), now=datetime.now(UTC) + timedelta(days=60)) == 1
    assert [r.seq for r in store.rows()] == [4] and verify(store).ok


def test_personal_data_has_no_field_to_go_to(database: Engine) -> None:
    """Long values are cut to their column; details are capped and marked."""
    store = AuditStore(database)
    big = AuditEntry("a" * 200, "admin", "b" * 100, "c" * 300, "d" * 400, 200, {"x": "y" * 9000})
    store.save_many([big])
    [row] = store.entries()
    assert len(row["actor"]) == 80 and len(row["address"]) == 64 and len(row["target"]) == 200
    assert set(row["details"]) == {"cut"} and verify(store).ok


async def test_the_log_waits_in_its_journal_and_a_replay_saves_it(tmp_path: Path, database: Engine) -> None:
    journal_dir = tmp_path / "audit"
    audit = AuditLog(AuditStore(database), journal_dir, interval=0.01)
    audit.record(entry(1))
    audit.record(entry(2))
    await audit.flush()
    await audit.close()
    assert [r.seq for r in AuditStore(database).rows()] == [1, 2]
    # An earlier process's journal (a crash before the commit's segment was removed) is replayed.
    leftover = Journal(journal_dir)
    again = entry(3)
    leftover.append(CODEC.encode(again))
    leftover.seal()
    audit = AuditLog(AuditStore(database), journal_dir, interval=0.01)
    assert await audit.replay() == 1
    await audit.close()
    assert [r.seq for r in AuditStore(database).rows()] == [1, 2, 3] and verify(AuditStore(database)).ok


@pytest.mark.postgres
def test_two_writers_at_once_make_one_chain_on_postgresql(database: Engine) -> None:
    if database.dialect.name != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's; SQLite serialises its writers itself")
    stores = [AuditStore(database), AuditStore(database)]
    errors: list[BaseException] = []

    def write(store: AuditStore, who: str) -> None:
        try:
            for n in range(40):
                store.save_many([entry(n, actor=who)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(s, f"op-{i}")) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    verdict = verify(stores[0])
    assert verdict.ok and verdict.checked == 80, verdict


def test_an_empty_log_verifies(database: Engine) -> None:
    verdict = verify(AuditStore(database))
    assert verdict.ok and verdict.checked == 0 and verdict.line() == "audit log empty: nothing to verify"
