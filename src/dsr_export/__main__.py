"""`python -m dsr_export` runs the command line."""

from .cli import run

run()
