"""The chain of identity and custody of cell-therapy products, in plain Python.

Nothing here performs I/O, reads a clock or imports from the other packages of
Custody Ledger: time, the actor and related aggregates are passed in, so every
rule can be tested in microseconds and replayed identically by a verifier.
"""
