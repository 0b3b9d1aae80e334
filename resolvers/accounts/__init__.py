"""Accounts: sign-up and tokens, users and relationships, profile, credentials, email, sessions,
deletion, export."""
