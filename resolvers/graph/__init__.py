"""The social graph: follow, block, mute, and the follow lists."""
