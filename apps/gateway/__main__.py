from apps.gateway.settings import GatewaySettings
from servicekit.serve import serve

serve("apps.gateway.main:create_app", host=GatewaySettings().public_host)
