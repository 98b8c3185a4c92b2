"""The CRM log: interviews, calls, emails, meetings and notes with a trust."""
