"""Bearer token issue and verification."""
