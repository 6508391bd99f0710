"""``autoconfig probe``: each client's discovery, replayed from the outside."""
