"""supervision sessions (issue 17, items 1 and 2): who listened to whom, in which modes, from when to when

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supervision_sessions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("operator", sa.String(40), nullable=False),
        sa.Column("supervisor", sa.String(40), nullable=False),
        sa.Column("origin", sa.String(8), nullable=False),
        sa.Column("node", sa.String(40), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_how", sa.String(16), nullable=True),
        sa.Column("ended_by", sa.String(80), nullable=True),
    )
    op.create_index("ix_supervision_sessions_started_at", "supervision_sessions", ["started_at"])
    op.create_index("ix_supervision_sessions_operator", "supervision_sessions", ["operator"])
    op.create_table(
        "supervision_modes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(32), sa.ForeignKey("supervision_sessions.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("via", sa.String(8), nullable=False),
        sa.Column("by", sa.String(80), nullable=False),
    )
    op.create_index("ix_supervision_modes_session", "supervision_modes", ["session_id"])


def downgrade() -> None:
    op.drop_index("ix_supervision_modes_session", "supervision_modes")
    op.drop_table("supervision_modes")
    op.drop_index("ix_supervision_sessions_operator", "supervision_sessions")
    op.drop_index("ix_supervision_sessions_started_at", "supervision_sessions")
    op.drop_table("supervision_sessions")
