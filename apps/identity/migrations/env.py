from servicekit.migrations import run_env

from apps.identity.storage import metadata

run_env(metadata)
