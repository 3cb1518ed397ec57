"""Use cases: each runs in one transaction and calls the domain and the stores."""
