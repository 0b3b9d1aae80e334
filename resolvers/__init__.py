"""The domain: rules and data access. Knows nothing of GraphQL."""
