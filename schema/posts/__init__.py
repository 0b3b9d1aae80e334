"""GraphQL for posts, comments and saved posts."""
