from apps.orders.storage import metadata
from servicekit.migrations import run_env

run_env(metadata)
