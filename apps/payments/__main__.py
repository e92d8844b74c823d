from servicekit.serve import serve

serve("apps.payments.main:create_app")
