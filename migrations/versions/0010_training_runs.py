"""training runs (admin-console model training: options, live progress, outcome)

Revision ID: 0010_training_runs
Revises: 0009_api_tokens
Create Date: 2026-11-28 15:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_training_runs'
down_revision = '0009_api_tokens'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('training_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plugin', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'stopped', 'failed', 'done', name='training_status', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('data_path', sa.Text(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('progress', sa.JSON(), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('stop_requested', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_training_runs_started_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_runs')),
    sqlite_autoincrement=True
    )


def downgrade():
    op.drop_table('training_runs')
