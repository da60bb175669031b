-- Switchboard's schema for the whole product (ARCHITECTURE.md, "Data").
--
-- Rules every table follows:
-- * Tenant-owned rows carry `org_id` with a foreign key to `organizations`, and
--   every index that serves a tenant query starts with `org_id`.
-- * Closed sets are `text` with a CHECK, so adding a value is one migration
--   and sqlx decodes them as plain strings.
-- * Times are `timestamptz`; money is `numeric`; free-form provider payloads are `jsonb`.

create extension if not exists vector;

create table organizations (
    id          uuid primary key default gen_random_uuid(),
    name        text not null check (length(btrim(name)) between 1 and 200),
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);

-- One organization per user; invitations add users to an existing organization.
create table users (
    id             uuid primary key default gen_random_uuid(),
    org_id         uuid not null references organizations (id) on delete cascade,
    email          text not null check (email = lower(email) and position('@' in email) > 1),
    name           text not null default '',
    password_hash  text not null,                       -- argon2id PHC string
    role           text not null check (role in ('owner', 'admin', 'viewer')),
    created_at     timestamptz not null default now(),
    last_login_at  timestamptz
);
create unique index users_email_key on users (email);
create index users_org_idx on users (org_id);

-- The tower-sessions store (tower-sessions-sqlx-store, schema "public", table "sessions").
create table sessions (
    id           text primary key,
    data         bytea not null,
    expiry_date  timestamptz not null
);
create index sessions_expiry_idx on sessions (expiry_date);

-- Failed log-ins, for rate limiting across every instance. Keyed by the
-- normalised email so unknown and known addresses are limited alike.
create table login_failures (
    id          bigint generated always as identity primary key,
    email       text not null,
    ip          text,
    failed_at   timestamptz not null default now()
);
create index login_failures_email_idx on login_failures (email, failed_at desc);

-- Organization API keys: only a SHA-256 of the key is stored; `prefix` is what
-- the dashboard shows so people can tell keys apart.
create table api_keys (
    id            uuid primary key default gen_random_uuid(),
    org_id        uuid not null references organizations (id) on delete cascade,
    name          text not null check (length(btrim(name)) between 1 and 100),
    prefix        text not null,
    key_hash      bytea not null unique,
    created_by    uuid references users (id) on delete set null,
    created_at    timestamptz not null default now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
create index api_keys_org_idx on api_keys (org_id, created_at desc);

create table agents (
    id                        uuid primary key default gen_random_uuid(),
    org_id                    uuid not null references organizations (id) on delete cascade,
    name                      text not null check (length(btrim(name)) between 1 and 100),
    description               text not null default '',
    status                    text not null default 'active' check (status in ('active', 'paused')),
    -- prompts: the system prompt plus direction-specific additions
    system_prompt             text not null default '',
    inbound_prompt            text not null default '',
    outbound_prompt           text not null default '',
    greeting                  text not null default '',
    first_speaker             text not null default 'agent' check (first_speaker in ('agent', 'caller')),
    -- voice engine
    engine                    text not null default 'openai_realtime' check (engine in ('openai_realtime', 'cascaded')),
    model                     text not null default 'gpt-realtime',
    voice                     text not null default 'marin',
    language                  text not null default 'en',
    audio_format              text not null default 'pcmu' check (audio_format in ('pcmu', 'pcm16')),
    vad_mode                  text not null default 'server_vad' check (vad_mode in ('server_vad', 'semantic_vad')),
    engine_settings           jsonb not null default '{}'::jsonb,
    -- tools: built-in switches plus typed business tools (JSON Schema), and the outcome schema
    tools                     jsonb not null default '[]'::jsonb,
    outcome_schema            jsonb,
    transfer_number           text check (transfer_number ~ '^\+[1-9][0-9]{6,14}$'),
    -- limits and behaviour
    max_duration_secs         integer not null default 600 check (max_duration_secs between 30 and 14400),
    silence_reprompt_secs     integer not null default 8 check (silence_reprompt_secs between 2 and 120),
    silence_max_reprompts     integer not null default 2 check (silence_max_reprompts between 0 and 10),
    ai_disclosure             boolean not null default true,
    record_calls              boolean not null default false,
    -- knowledge: per-agent overrides of RAG_CHUNK_LIMIT / RAG_SIMILARITY_THRESHOLD,
    -- and the context every call starts with, precomputed when prompt or documents change
    rag_chunk_limit           integer check (rag_chunk_limit between 1 and 50),
    rag_similarity_threshold  real check (rag_similarity_threshold between 0 and 1),
    knowledge_context         text not null default '',
    knowledge_context_at      timestamptz,
    created_at                timestamptz not null default now(),
    updated_at                timestamptz not null default now(),
    unique (org_id, name)
);
create index agents_org_idx on agents (org_id, created_at desc);

-- Every save of an agent's prompts is a version.
create table agent_prompt_versions (
    id               uuid primary key default gen_random_uuid(),
    org_id           uuid not null references organizations (id) on delete cascade,
    agent_id         uuid not null references agents (id) on delete cascade,
    version          integer not null check (version > 0),
    system_prompt    text not null,
    inbound_prompt   text not null default '',
    outbound_prompt  text not null default '',
    greeting         text not null default '',
    created_by       uuid references users (id) on delete set null,
    created_at       timestamptz not null default now(),
    unique (agent_id, version)
);
create index agent_prompt_versions_org_idx on agent_prompt_versions (org_id, agent_id, version desc);

create table phone_numbers (
    id             uuid primary key default gen_random_uuid(),
    org_id         uuid not null references organizations (id) on delete cascade,
    e164           text not null unique check (e164 ~ '^\+[1-9][0-9]{6,14}$'),
    twilio_sid     text unique,
    friendly_name  text not null default '',
    agent_id       uuid references agents (id) on delete set null,
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now()
);
create index phone_numbers_org_idx on phone_numbers (org_id);
create index phone_numbers_agent_idx on phone_numbers (agent_id) where agent_id is not null;

-- Documents are org-wide, or scoped to one agent when agent_id is set.
-- The original bytes are kept so a document can be re-processed.
create table knowledge_documents (
    id               uuid primary key default gen_random_uuid(),
    org_id           uuid not null references organizations (id) on delete cascade,
    agent_id         uuid references agents (id) on delete cascade,
    title            text not null,
    filename         text not null default '',
    content_type     text not null,
    size_bytes       bigint not null check (size_bytes >= 0),
    sha256           bytea not null,
    original         bytea not null,
    status           text not null default 'pending' check (status in ('pending', 'processing', 'ready', 'failed')),
    error            text,
    chunk_count      integer not null default 0,
    chunks_embedded  integer not null default 0,
    chunks_total     integer not null default 0,
    embedding_model  text,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now()
);
create index knowledge_documents_org_idx on knowledge_documents (org_id, created_at desc);
create index knowledge_documents_agent_idx on knowledge_documents (org_id, agent_id);

-- One vector column per embedding dimension, so each gets its own HNSW index:
-- 384 for the local all-MiniLM-L6-v2, 1536 for text-embedding-3-small. Exactly one
-- is set, and `embedding_model` says which model produced it, so a query only
-- compares vectors from the same model. `agent_id` is copied from the document so
-- scoping happens in the same index scan.
create table knowledge_chunks (
    id               bigint generated always as identity primary key,
    org_id           uuid not null references organizations (id) on delete cascade,
    document_id      uuid not null references knowledge_documents (id) on delete cascade,
    agent_id         uuid references agents (id) on delete cascade,
    chunk_index      integer not null check (chunk_index >= 0),
    heading_path     text[] not null default '{}',
    content          text not null,
    token_count      integer not null check (token_count >= 0),
    source_start     integer not null,
    source_end       integer not null,
    embedding_model  text not null,
    embedding_384    vector(384),
    embedding_1536   vector(1536),
    created_at       timestamptz not null default now(),
    check (num_nonnulls(embedding_384, embedding_1536) = 1),
    unique (document_id, chunk_index)
);
create index knowledge_chunks_org_idx on knowledge_chunks (org_id, embedding_model);
create index knowledge_chunks_384_hnsw on knowledge_chunks using hnsw (embedding_384 vector_cosine_ops);
create index knowledge_chunks_1536_hnsw on knowledge_chunks using hnsw (embedding_1536 vector_cosine_ops);

create table calls (
    id              uuid primary key default gen_random_uuid(),
    org_id          uuid not null references organizations (id) on delete cascade,
    agent_id        uuid references agents (id) on delete set null,
    call_sid        text not null unique,
    direction       text not null check (direction in ('inbound', 'outbound')),
    status          text not null check (status in ('queued', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled')),
    from_number     text not null,
    to_number       text not null,
    context         jsonb,                               -- outbound: what the API caller passed
    started_at      timestamptz not null default now(),
    answered_at     timestamptz,
    ended_at        timestamptz,
    duration_secs   integer check (duration_secs >= 0),
    ended_reason    text,
    summary         text,
    outcome         jsonb,
    usage           jsonb,
    cost_usd        numeric(12, 6),
    recording_url   text,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);
create index calls_org_started_idx on calls (org_id, started_at desc);
create index calls_org_agent_idx on calls (org_id, agent_id, started_at desc);
create index calls_org_status_idx on calls (org_id, status);

-- Written while the call is live, one row per completed line.
create table call_transcript_lines (
    id           bigint generated always as identity primary key,
    org_id       uuid not null references organizations (id) on delete cascade,
    call_id      uuid not null references calls (id) on delete cascade,
    seq          integer not null check (seq >= 0),
    role         text not null check (role in ('caller', 'agent', 'tool', 'system')),
    text         text not null,
    start_ms     integer not null check (start_ms >= 0),
    end_ms       integer not null check (end_ms >= start_ms),
    interrupted  boolean not null default false,
    created_at   timestamptz not null default now(),
    unique (call_id, seq)
);
create index call_transcript_lines_org_idx on call_transcript_lines (org_id, call_id);
create index call_transcript_lines_text_idx on call_transcript_lines using gin (to_tsvector('simple', text));

create table call_tool_invocations (
    id              bigint generated always as identity primary key,
    org_id          uuid not null references organizations (id) on delete cascade,
    call_id         uuid not null references calls (id) on delete cascade,
    tool_call_id    text not null,                       -- the engine's call_id
    name            text not null,
    arguments       jsonb not null,
    result          jsonb,
    status          text not null default 'running' check (status in ('running', 'ok', 'error', 'timeout')),
    error           text,
    chunk_ids       bigint[] not null default '{}',      -- knowledge passages returned (audit trail)
    started_at      timestamptz not null default now(),
    finished_at     timestamptz,
    unique (call_id, tool_call_id)
);
create index call_tool_invocations_org_idx on call_tool_invocations (org_id, call_id);

-- Durable work (ingestion, post-call summaries, webhook delivery), claimed with
-- FOR UPDATE SKIP LOCKED. org_id is null for system jobs.
create table jobs (
    id            bigint generated always as identity primary key,
    org_id        uuid references organizations (id) on delete cascade,
    kind          text not null,
    payload       jsonb not null default '{}'::jsonb,
    status        text not null default 'queued' check (status in ('queued', 'running', 'done', 'failed')),
    attempts      integer not null default 0,
    max_attempts  integer not null default 5 check (max_attempts > 0),
    run_at        timestamptz not null default now(),
    locked_at     timestamptz,
    locked_by     text,
    last_error    text,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now()
);
create index jobs_ready_idx on jobs (run_at) where status = 'queued';
create index jobs_running_idx on jobs (locked_at) where status = 'running';
create index jobs_org_idx on jobs (org_id, created_at desc) where org_id is not null;

-- Post-call event endpoints; the secret signs each delivery, so it is stored as given.
create table webhooks (
    id          uuid primary key default gen_random_uuid(),
    org_id      uuid not null references organizations (id) on delete cascade,
    url         text not null check (url ~ '^https?://'),
    secret      text not null,
    events      text[] not null default '{call.ended}',
    active      boolean not null default true,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);
create index webhooks_org_idx on webhooks (org_id);

create table webhook_deliveries (
    id               bigint generated always as identity primary key,
    org_id           uuid not null references organizations (id) on delete cascade,
    webhook_id       uuid not null references webhooks (id) on delete cascade,
    event            text not null,
    payload          jsonb not null,
    status           text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
    attempts         integer not null default 0,
    response_status  integer,
    last_error       text,
    next_attempt_at  timestamptz not null default now(),
    created_at       timestamptz not null default now(),
    delivered_at     timestamptz
);
create index webhook_deliveries_org_idx on webhook_deliveries (org_id, webhook_id, created_at desc);
create index webhook_deliveries_pending_idx on webhook_deliveries (next_attempt_at) where status = 'pending';
