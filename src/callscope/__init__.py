"""callscope: self-hosted communications sessions and Graph-compatible call records."""

__version__ = "0.1.0"
