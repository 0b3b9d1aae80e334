"""GraphQL for accounts: the viewer and users, sign-up and log-in, account security."""
