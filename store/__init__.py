"""The event store on PostgreSQL: schema, append, read, hash chain, seals, migrations.

Modules, one concept each:

    records       NewEvent, RecordedEvent, AppendResult
    metadata      EventMetadata: actor, role, unit, request, causation, correlation, workflow
    canonical     the one canonical byte form of an event and the hash chain
    event_store   EventStore: append (one statement, idempotent), read_stream, read_all
    reading       read_all below the snapshot xmin in (tx_id, position) order; Checkpoint
    subscription  Subscription: projection batches + checkpoint in one transaction
    upcasting     Upcasters: old stored shapes -> current shape on read
    merkle        RFC 6962 Merkle tree hash, incremental
    seals         seal_log, export_seals: HMAC-signed, chained Merkle roots
    verify        verify_log: recompute chains and seals, report what differs
    errors        the StoreError hierarchy
    engine, migrate, tables, migrations/   plumbing
"""
