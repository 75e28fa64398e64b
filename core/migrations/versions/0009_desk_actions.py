"""call control from the operator's desk (issue 16, items 5 and 6): the record shows a transfer,
a conference, the emergency line; every use is kept with who asked and when

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_records") as batch:
        batch.add_column(sa.Column("transferred", sa.String(8), nullable=True))
        batch.add_column(sa.Column("conferenced", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("emergency", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_table(
        "desk_actions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("operator", sa.String(40), nullable=False),
        sa.Column("by", sa.String(80), nullable=False),
        sa.Column("node", sa.String(40), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("queue", sa.String(40), nullable=False),
        sa.Column("topic", sa.String(40), nullable=True),
        sa.Column("target_kind", sa.String(16), nullable=True),
        sa.Column("target", sa.String(40), nullable=True),
    )
    op.create_index("ix_desk_actions_at", "desk_actions", ["at"])


def downgrade() -> None:
    op.drop_index("ix_desk_actions_at", "desk_actions")
    op.drop_table("desk_actions")
    with op.batch_alter_table("call_records") as batch:
        for column in ("emergency", "conferenced", "transferred"):
            batch.drop_column(column)
