"""Runs the steps of the JSON script given as the first argument (see peer.py)."""
from peer import main

main()
