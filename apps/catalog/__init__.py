"""catalog: products, stock and reservations in Dapr state."""
