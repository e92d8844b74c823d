from servicekit.serve import serve

serve("apps.identity.main:create_app")
