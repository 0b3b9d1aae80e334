"""Compiled execution: a plan per validated document, loaded in a fixed number of statements,
projected without the per-field engine (docs/architecture.md)."""
