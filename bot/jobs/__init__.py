"""Durable timed jobs: rows in the `jobs` table, due at a time, done once.

- `bot.jobs.store`: enqueue (idempotent through a dedupe key), claim in batches (Postgres:
  `FOR UPDATE SKIP LOCKED`; SQLite: the write lock), finish, retry with backoff.
- `bot.jobs.registry`: kind -> async handler, in one dict.
- `bot.jobs.runner`: `run_due()` runs what is due at the clock's `now()`; `start()` is the
  server's background loop; `vrijwilligerskracht jobs run [--now]` calls `run_due` once.

A claimed job carries a lease (`claimed_until`): a runner killed with -9 leaves its jobs
claimed, and the next runner takes them again once the lease has expired. Side effects are
therefore at-least-once across a crash (receivers get a stable id to de-duplicate on); without
a crash every job runs exactly once, also with several runners or replicas.
"""
