"""revisions of a run's content and of its learners' state, for cached course pages

Revision ID: 0011_run_revisions
Revises: 0010_notifications_calendar
Create Date: 2026-11-22 21:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_run_revisions'
down_revision = '0010_notifications_calendar'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('course_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_rev', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('learners_rev', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rev', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_column('rev')
    with op.batch_alter_table('course_runs', schema=None) as batch_op:
        batch_op.drop_column('learners_rev')
        batch_op.drop_column('content_rev')
