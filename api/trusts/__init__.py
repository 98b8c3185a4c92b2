"""NHS trusts, their board contacts and interactions: the CRM core."""
