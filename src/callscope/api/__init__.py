"""HTTP edge: routes, dialects (Graph), error mapping."""
