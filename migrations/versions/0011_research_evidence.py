"""evidence snapshots (aggregates of the local validation study of the facial indicator) and
adopted versions of the indicator threshold

Research consent needs no schema of its own: it is a consent record of kind "research".

Revision ID: 0011_research_evidence
Revises: 0010_training_runs
Create Date: 2026-11-28 15:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_research_evidence'
down_revision = '0010_training_runs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('evidence_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.Column('plugin_name', sa.String(length=64), nullable=False),
    sa.Column('plugin_version', sa.String(length=64), nullable=False),
    sa.Column('indicator_version', sa.String(length=32), nullable=False),
    sa.Column('media_kind', sa.String(length=16), nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('n_positive', sa.Integer(), nullable=False),
    sa.Column('n_negative', sa.Integer(), nullable=False),
    sa.Column('min_n', sa.Integer(), nullable=False),
    sa.Column('threshold', sa.Double(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_snapshots')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('evidence_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_snapshots_computed_at'), ['computed_at'], unique=False)
        batch_op.create_index('ix_evidence_snapshots_group', ['plugin_name', 'plugin_version', 'indicator_version', 'media_kind', 'reference'], unique=False)

    op.create_table('indicator_thresholds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('value', sa.Double(), nullable=False),
    sa.Column('adopted_at', sa.DateTime(), nullable=False),
    sa.Column('adopted_by_id', sa.Integer(), nullable=True),
    sa.Column('basis', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['adopted_by_id'], ['users.id'], name=op.f('fk_indicator_thresholds_adopted_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_thresholds')),
    sa.UniqueConstraint('version', name=op.f('uq_indicator_thresholds_version')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('indicator_thresholds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_thresholds_adopted_at'), ['adopted_at'], unique=False)


def downgrade():
    with op.batch_alter_table('indicator_thresholds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_thresholds_adopted_at'))
    op.drop_table('indicator_thresholds')
    with op.batch_alter_table('evidence_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_evidence_snapshots_group')
        batch_op.drop_index(batch_op.f('ix_evidence_snapshots_computed_at'))
    op.drop_table('evidence_snapshots')
