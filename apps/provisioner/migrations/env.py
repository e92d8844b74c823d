from apps.provisioner.storage.school import metadata
from servicekit.migrations import run_env

run_env(metadata)
