"""Policy audits: switching cost, self-preference, held-out test custody."""
