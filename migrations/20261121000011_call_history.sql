-- The Calls page lists newest first with keyset pagination on (started_at, id): the id breaks
-- ties between calls that started in the same microsecond, so a page boundary never skips or
-- repeats a call. These indexes serve that order directly (no sort), overall and per status;
-- the agent filter already has (org_id, agent_id, started_at desc). Each replaces an index
-- that is a prefix of it.
create index calls_org_started_id_idx on calls (org_id, started_at desc, id desc);
drop index calls_org_started_idx;
create index calls_org_status_started_idx on calls (org_id, status, started_at desc, id desc);
drop index calls_org_status_idx;
