"""The gateway's cached reads (servicekit.read_cache): products from catalog, the caller's profile from identity.

`domain` names the keys and the change marks they depend on; `service` builds each cache from the
settings, reads through it with public errors, and moves the product marks from catalog's events.
"""

from apps.gateway.cache.domain import product_key, product_list_key, profile_key
from apps.gateway.cache.service import product_changed, product_reads, read_public

__all__ = [
    "product_changed",
    "product_key",
    "product_list_key",
    "product_reads",
    "profile_key",
    "read_public",
]
