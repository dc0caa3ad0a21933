-- What a confirm writes, for pgbench: the signature marked confirmed (conditional on its
-- status), its tally shard moved, and the receipt in the outbox, in one transaction.
-- Each transaction must confirm one of the pending signatures prepared beforehand
-- (scripts/bench.sh): with none left, \gset finds no row, the client stops and pgbench
-- exits 2, so a run that ran dry cannot pass for a fast one.
\set local random(1, 300)
\set shard random(0, 7)
BEGIN;
UPDATE signatures SET status = 'confirmed', confirmed_at = now(), confirm_token_hash = NULL
  WHERE id = (SELECT id FROM signatures WHERE status = 'pending' AND campaign_id = 1 LIMIT 1 FOR UPDATE SKIP LOCKED) AND status = 'pending'
  RETURNING id AS confirmed \gset
INSERT INTO local_tallies (campaign_id, local_id, shard, count) VALUES (1, :local, :shard, 1)
  ON CONFLICT (campaign_id, local_id, shard) DO UPDATE SET count = local_tallies.count + 1;
INSERT INTO outbox (kind, recipient, subject, body_text, body_html, attempts, next_attempt_at, created_at)
  VALUES ('receipt', 'yardstick@example.org', 'Your signature is confirmed', repeat('x', 1500), repeat('x', 3000), 0, now(), now());
COMMIT;
