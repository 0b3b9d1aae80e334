"""GraphQL for the feed's arguments."""
