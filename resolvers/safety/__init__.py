"""Safety: reports, what reports hold in storage, moderation."""
