"""Conversations: membership, groups, messages and their changes, requests, shares, the live stream."""
