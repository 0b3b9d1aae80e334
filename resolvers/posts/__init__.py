"""Posts and engagement on them: posts and likes, comments, edits, saved posts."""
