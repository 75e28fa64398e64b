"""call intervals: statistics of records older than the retention period

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

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
)
_SECONDS = ("wait_seconds_sum", "talk_seconds_sum", "max_wait_seconds")


def upgrade() -> None:
    op.create_table(
        "call_intervals",
        sa.Column("interval_start", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("node", sa.String(40), primary_key=True),
        sa.Column("topic", sa.String(40), primary_key=True),
        sa.Column("queue", sa.String(40), primary_key=True),
        *(sa.Column(name, sa.Integer, nullable=False, server_default="0") for name in _COUNTS),
        *(sa.Column(name, sa.Float, nullable=False, server_default="0") for name in _SECONDS),
    )


def downgrade() -> None:
    op.drop_table("call_intervals")
