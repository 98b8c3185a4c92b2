"""Every model, imported in one place so metadata is complete for Alembic and tests."""

from api.accounts.models import ApiToken, Partner  # noqa: F401
from api.audit import AuditEvent  # noqa: F401
from api.bookings.models import Booking, BookingRendering, BookingSpeaker, SpeakerFeedEvent  # noqa: F401
from api.change_requests.models import ChangeRequest  # noqa: F401
from api.calendar.models import Feed  # noqa: F401
from api.derived.counters import CounterRow  # noqa: F401
from api.feedback.models import SurveyLink, SurveyResponse  # noqa: F401
from api.idempotency import IdempotencyRecord  # noqa: F401
from api.mail.models import EmailMessage  # noqa: F401
from api.outbox import OutboxEvent  # noqa: F401
from api.outcomes.models import NextStep, Outcome  # noqa: F401
from api.reports.models import ReportRollup  # noqa: F401
from api.speakers.models import AvailabilityException, AvailabilityWindow, Speaker  # noqa: F401
from api.topics.models import Topic  # noqa: F401
from api.trusts.models import Contact, Interaction, Trust  # noqa: F401
from api.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint  # noqa: F401
