-- Rendered by `python -m tools.deploy render` from dapr.yaml (tools/servers/postgres.py app_databases): edit those, not this file.
CREATE DATABASE junction_identity OWNER junction;
CREATE DATABASE junction_catalog OWNER junction;
CREATE DATABASE junction_orders OWNER junction;
CREATE DATABASE junction_payments OWNER junction;
CREATE DATABASE junction_notifications OWNER junction;
CREATE DATABASE junction_analytics OWNER junction;
CREATE DATABASE junction_admin OWNER junction;
CREATE DATABASE junction_provisioner OWNER junction;
CREATE DATABASE junction_gateway OWNER junction;
