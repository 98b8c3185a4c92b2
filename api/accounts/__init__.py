"""Partner organisations and API tokens: who may call the API, and on whose behalf."""
