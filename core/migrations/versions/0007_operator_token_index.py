"""an index on operators.token_hash: a request's token is looked up, not compared with every
operator's (agents/directory.py ``authenticate``; issue 14)

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_operators_token_hash", "operators", ["token_hash"])


def downgrade() -> None:
    op.drop_index("ix_operators_token_hash", table_name="operators")
