"""The `callscope` command line."""
