"""Project policy: the qualification rules and the built-in skill-tier fallback."""
