"""GraphQL for the activity inbox."""
