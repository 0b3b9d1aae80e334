"""Schema extensions: limits, rate limits, error policy, metrics, tracing, document cache, hints."""
