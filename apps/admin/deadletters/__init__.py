"""Dead letters: every CloudEvent a subscriber gave up on, kept for inspection and replay."""
