"""final reports are frozen: stored page and PDF; amendments are new versions

Revision ID: 0008_frozen_reports
Revises: 0007_caseload
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_frozen_reports'
down_revision = '0007_caseload'
branch_labels = None
depends_on = None

# Batch mode rebuilds the table on SQLite; report ids must never be reused (see 0004).
KEEP_AUTOINCREMENT = {'sqlite_autoincrement': True}


def upgrade():
    with op.batch_alter_table('care_reports', schema=None, table_kwargs=KEEP_AUTOINCREMENT) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('amends_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('snapshot_path', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('pdf_path', sa.String(length=255), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_care_reports_amends_id_care_reports'), 'care_reports',
                                    ['amends_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('care_reports', schema=None, table_kwargs=KEEP_AUTOINCREMENT) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_care_reports_amends_id_care_reports'), type_='foreignkey')
        batch_op.drop_column('pdf_path')
        batch_op.drop_column('snapshot_path')
        batch_op.drop_column('amends_id')
        batch_op.drop_column('version')
