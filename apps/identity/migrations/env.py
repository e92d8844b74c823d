from apps.identity.storage import metadata
from servicekit.migrations import run_env

run_env(metadata)
