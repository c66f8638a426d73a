"""patient experience: crisis acknowledgement, questionnaire-only screenings, per-screening sharing choice

Revision ID: 0006_patient_experience
Revises: 0005_account_lifecycle
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_patient_experience'
down_revision = '0005_account_lifecycle'
branch_labels = None
depends_on = None

# Batch mode rebuilds the table on SQLite; screening ids must never be reused (see 0004).
KEEP_AUTOINCREMENT = {'sqlite_autoincrement': True}


def _kinds(batch_op, kinds):
    # The kind is a plain string with a CHECK constraint (portable enum): widen or narrow it.
    batch_op.drop_constraint(op.f('ck_screenings_screening_kind'), type_='check')
    batch_op.create_check_constraint(op.f('ck_screenings_screening_kind'), sa.column('kind').in_(kinds))


def upgrade():
    with op.batch_alter_table('screenings', schema=None, table_kwargs=KEEP_AUTOINCREMENT) as batch_op:
        batch_op.add_column(sa.Column('crisis_acknowledged_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('crisis_acknowledged_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_screenings_crisis_acknowledged_by_id_users'), 'users',
                                    ['crisis_acknowledged_by_id'], ['id'], ondelete='SET NULL')
        _kinds(batch_op, ['photo', 'clip', 'questionnaire'])
        batch_op.add_column(sa.Column('share_with_care', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    op.execute("DELETE FROM screenings WHERE kind = 'questionnaire'")
    with op.batch_alter_table('screenings', schema=None, table_kwargs=KEEP_AUTOINCREMENT) as batch_op:
        batch_op.drop_column('share_with_care')
        _kinds(batch_op, ['photo', 'clip'])
        batch_op.drop_constraint(batch_op.f('fk_screenings_crisis_acknowledged_by_id_users'), type_='foreignkey')
        batch_op.drop_column('crisis_acknowledged_by_id')
        batch_op.drop_column('crisis_acknowledged_at')
