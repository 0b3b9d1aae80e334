"""GraphQL for search and hashtags."""
