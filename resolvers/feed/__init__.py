"""The home feed: pages (pull and hybrid), the Redis feeds and their fan-out, ranking and ranked snapshots."""
