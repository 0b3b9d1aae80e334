"""GraphQL for media."""
