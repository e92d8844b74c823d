"""admin: dead letters (stored for inspection and replay); tenant onboarding sits beside them."""
