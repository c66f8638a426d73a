"""screenings and their analysed frames

Revision ID: 0002_screenings
Revises: 0001_accounts
Create Date: 2026-11-27 12:30:15.733195

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002_screenings'
down_revision = '0001_accounts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('screenings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('photo', 'clip', name='screening_kind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('status', sa.Enum('pending', 'queued', 'running', 'done', 'failed', name='screening_status', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('failure_reason', sa.Text(), nullable=True),
    sa.Column('progress', sa.Double(), nullable=False),
    sa.Column('stage', sa.String(length=120), nullable=False),
    sa.Column('progress_at', sa.DateTime(), nullable=True),
    sa.Column('plugin_name', sa.String(length=64), nullable=False),
    sa.Column('plugin_version', sa.String(length=64), nullable=True),
    sa.Column('rq_job_id', sa.String(length=64), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('consent_version', sa.String(length=32), nullable=False),
    sa.Column('phq9_answers', sa.JSON(), nullable=False),
    sa.Column('phq9_difficulty', sa.Integer(), nullable=True),
    sa.Column('phq9_total', sa.Integer(), nullable=False),
    sa.Column('phq9_item9', sa.Integer(), nullable=False),
    sa.Column('phq9_band', sa.String(length=32), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('affect_indicator', sa.Double(), nullable=True),
    sa.Column('face_status', sa.String(length=16), nullable=True),
    sa.Column('facial_result', sa.JSON(), nullable=True),
    sa.Column('media_path', sa.String(length=255), nullable=True),
    sa.Column('media_type', sa.String(length=64), nullable=True),
    sa.Column('crop_path', sa.String(length=255), nullable=True),
    sa.Column('gradcam_path', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_screenings_patient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screenings'))
    )
    with op.batch_alter_table('screenings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_screenings_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_screenings_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_screenings_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_screenings_urgent'), ['urgent'], unique=False)

    op.create_table('screening_frames',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('screening_id', sa.Integer(), nullable=False),
    sa.Column('index', sa.Integer(), nullable=False),
    sa.Column('t_seconds', sa.Double(), nullable=False),
    sa.Column('face_found', sa.Boolean(), nullable=False),
    sa.Column('box', sa.JSON(), nullable=True),
    sa.Column('probabilities', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['screening_id'], ['screenings.id'], name=op.f('fk_screening_frames_screening_id_screenings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screening_frames'))
    )
    with op.batch_alter_table('screening_frames', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_screening_frames_screening_id'), ['screening_id'], unique=False)


def downgrade():
    with op.batch_alter_table('screening_frames', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_screening_frames_screening_id'))

    op.drop_table('screening_frames')
    with op.batch_alter_table('screenings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_screenings_urgent'))
        batch_op.drop_index(batch_op.f('ix_screenings_status'))
        batch_op.drop_index(batch_op.f('ix_screenings_patient_id'))
        batch_op.drop_index(batch_op.f('ix_screenings_created_at'))

    op.drop_table('screenings')
