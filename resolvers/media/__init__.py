"""Media: uploads (issue, attach, verify) and reconciliation with object storage."""
