"""identity: users, passwords and access tokens."""
