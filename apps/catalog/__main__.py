from servicekit.serve import serve

serve("apps.catalog.main:create_app")
