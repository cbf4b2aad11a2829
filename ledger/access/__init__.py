"""Access control: API keys (stored hashed), roles, and how a bearer token becomes an actor."""
