"""Finding people and posts: search, suggestions, hashtags, and what captions leave behind (tags,
mentions)."""
