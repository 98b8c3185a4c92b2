"""trusts.ics_code: the trust's integrated care system, mapped from the free-text ics

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 00:45:00

Adds ``trusts.ics_code`` (the ODS code of the system's integrated care board, ``api.trusts.ics``) and fills
it where the free-text ``ics`` names one of the 42 systems (case, punctuation, ``&``, "NHS", "ICS", "ICB",
"Integrated Care System", "Health and Care Partnership" do not matter). A mapped trust's ``ics`` becomes the
system's name and its version and ``updated_at`` move, so ETags change and syncing clients see it. Names
that match no system (abbreviations, former STP names) stay free text with no code. Downgrade drops the
column; the names keep their normalised spelling.
"""
from alembic import op
import sqlalchemy as sa
import api.db
from api.trusts.ics import match


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('trusts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ics_code', sa.String(length=3), nullable=True, comment="ODS code of the integrated care system's board (api.trusts.ics); null when not known."))
        batch_op.create_index(batch_op.f('ix_trusts_ics_code'), ['ics_code'], unique=False)

    trusts = sa.table('trusts', sa.column('id', sa.String), sa.column('ics', sa.String),
                      sa.column('ics_code', sa.String), sa.column('version', sa.Integer),
                      sa.column('updated_at', api.db.UTCDateTime()))
    connection = op.get_bind()
    rows = connection.execute(sa.select(trusts.c.id, trusts.c.ics).where(trusts.c.ics.is_not(None))).all()
    mapped = [{"trust_id": row.id, "code": system.code, "name": system.name}
              for row in rows if (system := match(row.ics)) is not None]
    if mapped:
        connection.execute(
            trusts.update().where(trusts.c.id == sa.bindparam("trust_id"))
            .values(ics_code=sa.bindparam("code"), ics=sa.bindparam("name"), version=trusts.c.version + 1,
                    updated_at=api.db.utcnow()),
            mapped)


def downgrade() -> None:
    with op.batch_alter_table('trusts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trusts_ics_code'))
        batch_op.drop_column('ics_code')
