from tests.outcomes.conftest import create_booking  # noqa: F401
