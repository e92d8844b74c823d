from servicekit.serve import serve

serve("apps.admin.main:create_app")
