from apps.identity.api.grpc import add_services
from apps.identity.main import create_app
from servicekit.grpc_serve import serve_grpc

serve_grpc(create_app, add_services)
