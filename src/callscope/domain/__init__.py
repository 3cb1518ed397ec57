"""Pure domain logic: no I/O, no framework, no clock reads."""
