"""account lifecycle: confirmed e-mail addresses and single-use TOTP codes

Revision ID: 0005_account_lifecycle
Revises: 0004_hardening
Create Date: 2026-11-28 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_account_lifecycle'
down_revision = '0004_hardening'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('email_verified_at', sa.DateTime(), nullable=True))
    # Accounts that exist before confirmation was introduced keep working as they did.
    op.execute("UPDATE users SET email_verified_at = created_at")


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email_verified_at')
        batch_op.drop_column('totp_last_step')
