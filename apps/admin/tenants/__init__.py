"""Tenant (school) onboarding: record the tenant, create its database, have the provisioner migrate it."""
