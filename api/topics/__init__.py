"""The programme's topic catalogue."""
