"""orders: the order lifecycle, from placement to payment, cancellation and expiry."""
