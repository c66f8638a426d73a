"""caseload: treat-to-target prompts dismissed by doctors, with their reasons

Revision ID: 0007_caseload
Revises: 0006_patient_experience
Create Date: 2026-11-28 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_caseload'
down_revision = '0006_patient_experience'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('care_prompt_dismissals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('screening_id', sa.Integer(), nullable=False),
    sa.Column('doctor_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_care_prompt_dismissals_consultation_id_consultations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['doctor_id'], ['users.id'], name=op.f('fk_care_prompt_dismissals_doctor_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['screening_id'], ['screenings.id'], name=op.f('fk_care_prompt_dismissals_screening_id_screenings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_prompt_dismissals')),
    sa.UniqueConstraint('consultation_id', 'kind', 'screening_id', name='uq_care_prompt_dismissals_consultation_kind_screening'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('care_prompt_dismissals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_prompt_dismissals_consultation_id'), ['consultation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('care_prompt_dismissals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_prompt_dismissals_consultation_id'))

    op.drop_table('care_prompt_dismissals')
