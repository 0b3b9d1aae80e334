"""GraphQL for stories, their live stream, archive and highlights."""
