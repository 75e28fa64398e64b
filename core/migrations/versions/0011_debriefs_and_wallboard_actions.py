"""debrief requests and the shift lead's actions from the wallboard (issue 17, items 3 and 4)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "debrief_requests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("operator", sa.String(40), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=True),
        sa.Column("note", sa.String(200), nullable=True),
        sa.Column("suggested", sa.Boolean, nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_by", sa.String(80), nullable=True),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(80), nullable=True),
        sa.Column("outcome", sa.String(200), nullable=True),
    )
    op.create_index("ix_debrief_requests_requested_at", "debrief_requests", ["requested_at"])
    op.create_index("ix_debrief_requests_operator", "debrief_requests", ["operator"])
    op.create_table(
        "wallboard_actions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(80), nullable=False),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("operator", sa.String(40), nullable=True),
        sa.Column("target", sa.String(80), nullable=True),
        sa.Column("result", sa.String(40), nullable=False),
    )
    op.create_index("ix_wallboard_actions_at", "wallboard_actions", ["at"])


def downgrade() -> None:
    op.drop_index("ix_wallboard_actions_at", "wallboard_actions")
    op.drop_table("wallboard_actions")
    op.drop_index("ix_debrief_requests_operator", "debrief_requests")
    op.drop_index("ix_debrief_requests_requested_at", "debrief_requests")
    op.drop_table("debrief_requests")
