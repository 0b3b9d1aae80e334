"""The transport layer: HTTP and WebSocket pieces, each configured through its constructor."""
