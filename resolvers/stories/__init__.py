"""Stories: stories, tray, views, reactions, replies, the author's live stream, archive, highlights,
sweeper."""
