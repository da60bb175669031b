-- Retrieval tuning (src/benches/retrieval.rs): match_knowledge_chunks searches with
-- hnsw.ef_search = 100 instead of 400; its body is unchanged from
-- 20261121000002_match_knowledge_chunks.sql, so only the setting is altered.
--
-- Measured with 1,000,000 384-dimensional chunks in 10 organizations of 100,000 (the default
-- index, m = 16 and ef_construction = 64) on 2 cores: 400 gave recall@10 0.987 at p95 34 ms,
-- 100 gives 0.963 at p95 13 ms (4 ms median), and 64 drops to 0.907. 100 is the smallest
-- value that keeps recall@10 above 0.95 for a tenant holding a tenth of the rows.
--
-- The trade-off: pgvector 0.6 filters by tenant after the index scan, and the scan yields at
-- most ef_search candidates, so a tenant with a small share of the rows whose passages resemble
-- other tenants' can get fewer than `match_count` rows back. Raise this again (or move to
-- pgvector 0.8's iterative index scans) if tenants get much smaller relative to the table.
alter function match_knowledge_chunks(vector, uuid, uuid, integer, real, text)
    set hnsw.ef_search = 100;
