"""what the page and the HTTP API add: formatting, the guard, the service."""
