from servicekit.serve import serve

serve("apps.provisioner.main:create_app")
