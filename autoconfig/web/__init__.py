"""Thin Flask views, one module per client family, and the error mapping."""
