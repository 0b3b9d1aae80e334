"""GraphQL for reports and moderation."""
