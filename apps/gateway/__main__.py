from servicekit.serve import serve

from apps.gateway.settings import GatewaySettings

serve("apps.gateway.main:create_app", host=GatewaySettings().public_host)
