from servicekit.serve import serve

serve("apps.analytics.main:create_app")
