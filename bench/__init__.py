"""Benchmarks: the engine against a minimal entity workflow on the same Temporal server.

``make bench`` runs ``python -m bench``; ``python -m bench.open_orders`` starts many orders
and leaves them waiting. They print figures; none of them is a test.
"""
