-- Invitations: a pending member of an organization, until they open their one-time link
-- (`/invite/{token}`) and set a name and password. No mail is sent; the inviter passes the link
-- on. Only a SHA-256 of the token is stored, like API keys, so a database leak opens no doors.
create table invitations (
    id           uuid primary key default gen_random_uuid(),
    org_id       uuid not null references organizations (id) on delete cascade,
    email        text not null check (email = lower(email) and position('@' in email) > 1),
    role         text not null check (role in ('owner', 'admin', 'viewer')),
    token_hash   bytea not null unique,
    invited_by   uuid references users (id) on delete set null,
    created_at   timestamptz not null default now(),
    expires_at   timestamptz not null,
    accepted_at  timestamptz
);
create index invitations_org_idx on invitations (org_id, created_at desc);
-- One pending invitation per address and organization; inviting again replaces it.
create unique index invitations_pending_key on invitations (org_id, email) where accepted_at is null;
