"""crisis path: a treating doctor acknowledges an item-9 screening

Revision ID: lead12_crisis_acknowledgement
Revises: 0003_care
"""
from alembic import op
import sqlalchemy as sa


revision = 'lead12_crisis_acknowledgement'
down_revision = '0003_care'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('screenings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('crisis_acknowledged_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('crisis_acknowledged_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_screenings_crisis_acknowledged_by_id_users'), 'users',
                                    ['crisis_acknowledged_by_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('screenings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_screenings_crisis_acknowledged_by_id_users'), type_='foreignkey')
        batch_op.drop_column('crisis_acknowledged_by_id')
        batch_op.drop_column('crisis_acknowledged_at')
