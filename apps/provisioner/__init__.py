"""provisioner: brings a tenant (school) database to the latest school schema by migrations."""
