-- Retrieval tuning (src/benches/retrieval.rs): match_knowledge_chunks searches with
-- hnsw.ef_search = 100 instead of 400. Everything else is unchanged from
-- 20261121000002_match_knowledge_chunks.sql.
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
create or replace function match_knowledge_chunks(
    query_embedding       vector,
    p_org_id              uuid,
    p_agent_id            uuid,
    match_count           integer,
    similarity_threshold  real,
    p_embedding_model     text
)
returns table (
    chunk_id        bigint,
    document_id     uuid,
    document_title  text,
    heading_path    text[],
    content         text,
    similarity      real
)
language plpgsql
stable
set hnsw.ef_search = 100
as $$
#variable_conflict use_column
begin
    if vector_dims(query_embedding) = 384 then
        return query
        select n.id, n.document_id, n.title, n.heading_path, n.content, (1 - n.distance)::real
          from (select c.id, c.document_id, d.title, c.heading_path, c.content,
                       c.embedding_384 <=> query_embedding as distance
                  from knowledge_chunks c
                  join knowledge_documents d on d.id = c.document_id and d.org_id = p_org_id
                 where c.org_id = p_org_id
                   and (c.agent_id is null or c.agent_id = p_agent_id)
                   and c.embedding_model = p_embedding_model
                   and d.status = 'ready'
                 order by c.embedding_384 <=> query_embedding
                 limit match_count) n
         where 1 - n.distance >= similarity_threshold
         order by n.distance;
    elsif vector_dims(query_embedding) = 1536 then
        return query
        select n.id, n.document_id, n.title, n.heading_path, n.content, (1 - n.distance)::real
          from (select c.id, c.document_id, d.title, c.heading_path, c.content,
                       c.embedding_1536 <=> query_embedding as distance
                  from knowledge_chunks c
                  join knowledge_documents d on d.id = c.document_id and d.org_id = p_org_id
                 where c.org_id = p_org_id
                   and (c.agent_id is null or c.agent_id = p_agent_id)
                   and c.embedding_model = p_embedding_model
                   and d.status = 'ready'
                 order by c.embedding_1536 <=> query_embedding
                 limit match_count) n
         where 1 - n.distance >= similarity_threshold
         order by n.distance;
    else
        raise exception 'match_knowledge_chunks: no column for % dimensions', vector_dims(query_embedding)
            using errcode = '22023';
    end if;
end;
$$;
