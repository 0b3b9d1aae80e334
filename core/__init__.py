"""Infrastructure the domain uses: the clock, ids, database sessions, passwords, rate limits, logs."""
