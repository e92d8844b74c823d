"""Developer tooling: the local servers a profile needs and the Dapr runtime."""
