from servicekit.serve import serve

serve("apps.notifications.main:create_app")
