from servicekit.serve import serve

serve("apps.orders.main:create_app")
