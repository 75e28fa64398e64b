"""switchboarding (issue 17, item 5): a queue's new callers sent elsewhere for a set time

Every redirect is kept (who, from, to, start, planned end, actual end, who ended it); a call
record names the queue its caller was redirected from.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "switchboard",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("queue", sa.String(40), nullable=False),
        sa.Column("target_queue", sa.String(40), nullable=True),
        sa.Column("target_referral", sa.String(40), nullable=True),
        sa.Column("started_by", sa.String(80), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("planned_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(80), nullable=True),
    )
    op.create_index("ix_switchboard_queue", "switchboard", ["queue"])
    op.create_index("ix_switchboard_started_at", "switchboard", ["started_at"])
    with op.batch_alter_table("call_records") as batch:
        batch.add_column(sa.Column("switchboarded_from", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_records") as batch:
        batch.drop_column("switchboarded_from")
    op.drop_index("ix_switchboard_started_at", "switchboard")
    op.drop_index("ix_switchboard_queue", "switchboard")
    op.drop_table("switchboard")
