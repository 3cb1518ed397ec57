"""Allow `python -m callscope`."""

from callscope.cli.main import main

if __name__ == "__main__":
    main()
