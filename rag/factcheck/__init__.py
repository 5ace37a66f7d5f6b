"""claim + passages -> Verdict."""
