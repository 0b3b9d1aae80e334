"""GraphQL for the social graph."""
