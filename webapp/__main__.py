"""`python -m webapp` runs the command line, like the `netpol-viz` script."""

from webapp.cli import main

main()
