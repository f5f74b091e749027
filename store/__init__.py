"""The event store on PostgreSQL: schema, append, read, hash chain, migrations."""
