"""The CSDL documents of the namespace callscope serves, one per API version."""
