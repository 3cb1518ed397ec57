"""Allow `python -m callscope`."""

from callscope.cli.main import main

main()
