"""gradebook overrides to hundredths (a quiz's grade may be 7,5)

Revision ID: 0016_fractional_overrides
Revises: 0015_attempt_files
Create Date: 2026-11-23 06:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_fractional_overrides'
down_revision = '0015_attempt_files'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('grade_overrides', schema=None) as batch_op:
        batch_op.alter_column('points', existing_type=sa.Integer(), type_=sa.Float(), existing_nullable=False)


def downgrade():
    with op.batch_alter_table('grade_overrides', schema=None) as batch_op:
        batch_op.alter_column('points', existing_type=sa.Float(), type_=sa.Integer(), existing_nullable=False,
                              postgresql_using='round(points)::integer')
