"""The activity inbox: recording items, reading pages, the live stream."""
