"""call record fields of issue 4 and 5 (escalated, survey, wrap-up, repeat count); operator pauses

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_records") as batch:
        batch.add_column(sa.Column("escalated", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("survey_score", sa.Integer, nullable=True))
        batch.add_column(sa.Column("wrapup_seconds", sa.Float, nullable=True))
        batch.add_column(sa.Column("repeat_count", sa.Integer, nullable=True))
    op.create_table(
        "operator_pauses",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("operator", sa.String(40), nullable=False),
        sa.Column("reason", sa.String(24), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("rule", sa.String(40), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_operator_pauses_started_at", "operator_pauses", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_operator_pauses_started_at", "operator_pauses")
    op.drop_table("operator_pauses")
    with op.batch_alter_table("call_records") as batch:
        for column in ("repeat_count", "wrapup_seconds", "survey_score", "escalated"):
            batch.drop_column(column)
