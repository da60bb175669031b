-- When the call's one media stream began. Set once, by the stream that claims the call: a second
-- socket for the same call (a replayed stream URL) finds it set and is refused.
alter table calls add column stream_started_at timestamptz;
