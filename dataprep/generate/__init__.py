"""Pair generators: grounded templates (templates.py) and Evol-Instruct (evol.py)."""
