"""call records

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_records",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("node", sa.String(40), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ivr_ended_at", sa.DateTime(timezone=True)),
        sa.Column("queue_entered_at", sa.DateTime(timezone=True)),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("language", sa.String(16)),
        sa.Column("menu_version", sa.String(40)),
        sa.Column("path", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(40)),
        sa.Column("queue", sa.String(40)),
        sa.Column("route_reason", sa.String(20)),
        sa.Column("fallback", sa.Boolean, nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("wait_seconds", sa.Float),
        sa.Column("talk_seconds", sa.Float),
        sa.Column("operator", sa.String(80)),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.UniqueConstraint("node", "call_id", name="uq_call_records_node_call"),
    )
    op.create_index("ix_call_records_started_at", "call_records", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_call_records_started_at", "call_records")
    op.drop_table("call_records")
