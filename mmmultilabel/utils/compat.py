"""Compatibility layer (filled in below)."""
