-- What a sign writes, for pgbench: the pending signature and its confirmation mail, in
-- one transaction (the server also reads the campaign and checks the address first).
\set local random(1, 300)
\set n random(1, 2000000000)
BEGIN;
SELECT id FROM signatures WHERE campaign_id = 1 AND canonical_email = 'yardstick-' || :n || '@example.org';
INSERT INTO signatures (id, campaign_id, local_id, given_name, family_name, email, canonical_email, language, text_id, show_name, status, confirm_token_hash, confirm_expires_at, created_at, ip)
  VALUES (gen_random_uuid(), 1, :local, 'Bench', 'Signer', 'yardstick-' || :n || '@example.org', 'yardstick-' || :n || '-' || random() || '@example.org', 'en', 1, false, 'pending', md5(random()::text) || md5(random()::text), now() + interval '7 days', now(), '10.0.0.1');
INSERT INTO outbox (kind, recipient, subject, body_text, body_html, attempts, next_attempt_at, created_at)
  VALUES ('confirm', 'yardstick@example.org', 'Please confirm your signature', repeat('x', 900), repeat('x', 1800), 0, now(), now());
COMMIT;
