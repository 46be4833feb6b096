"""Load and overhead measurement: our bot beside a naive fal-client bot on one simulated fal.

Run `./scripts/bench` (or `.venv/bin/python -m bench.run --help`); see bench/README.md.
"""
