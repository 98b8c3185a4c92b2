"""attendee feedback: survey_links and survey_responses

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 00:40:00

Per-booking survey links (the URL token stored hashed, revocable) and the responses board members give
through them; a response names a contact only when its optional name matched one of the booking's attendees.
"""
from alembic import op
import sqlalchemy as sa
import api.db


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('survey_links',
    sa.Column('booking_id', sa.String(length=36), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False, comment='SHA-256 of the URL token.'),
    sa.Column('created_by_token_id', sa.String(length=36), nullable=True),
    sa.Column('revoked_at', api.db.UTCDateTime(timezone=True), nullable=True, comment='Set when revoked or replaced by a newer link: the URL then answers 404.'),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False, comment='Bumped on every change; the UPDATE is conditional on it (ETag/If-Match).'),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_survey_links_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_token_id'], ['api_tokens.id'], name=op.f('fk_survey_links_created_by_token_id_api_tokens'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_survey_links_token_hash'))
    )
    with op.batch_alter_table('survey_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_links_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_links_updated_at'), ['updated_at'], unique=False)

    op.create_table('survey_responses',
    sa.Column('booking_id', sa.String(length=36), nullable=False),
    sa.Column('link_id', sa.String(length=36), nullable=False),
    sa.Column('contact_id', sa.String(length=36), nullable=True, comment='The booking attendee the given name matched; erasing that contact anonymises the response.'),
    sa.Column('name', sa.String(length=200), nullable=True, comment='The name the respondent gave (optional).'),
    sa.Column('confidence_before', sa.Integer(), nullable=False),
    sa.Column('confidence_after', sa.Integer(), nullable=False),
    sa.Column('usefulness', sa.Integer(), nullable=False, comment='0-10: how useful the session was (NPS scale).'),
    sa.Column('next_step', sa.Text(), nullable=True, comment='What the respondent will do next.'),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False, comment='Bumped on every change; the UPDATE is conditional on it (ETag/If-Match).'),
    sa.CheckConstraint('confidence_before BETWEEN 1 AND 5', name=op.f('ck_survey_responses_confidence_before')),
    sa.CheckConstraint('confidence_after BETWEEN 1 AND 5', name=op.f('ck_survey_responses_confidence_after')),
    sa.CheckConstraint('usefulness BETWEEN 0 AND 10', name=op.f('ck_survey_responses_usefulness')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_survey_responses_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_survey_responses_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['link_id'], ['survey_links.id'], name=op.f('fk_survey_responses_link_id_survey_links'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_responses'))
    )
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_responses_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_responses_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_responses_link_id'), ['link_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_responses_updated_at'), ['updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        for name in ('ix_survey_responses_updated_at', 'ix_survey_responses_link_id',
                     'ix_survey_responses_contact_id', 'ix_survey_responses_booking_id'):
            batch_op.drop_index(batch_op.f(name))
    op.drop_table('survey_responses')
    with op.batch_alter_table('survey_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_links_updated_at'))
        batch_op.drop_index(batch_op.f('ix_survey_links_booking_id'))
    op.drop_table('survey_links')
