"""gateway: the only public edge."""
