-- Retrieval for the knowledge path (ARCHITECTURE.md, "Knowledge path"): the passages
-- nearest a query embedding, scoped to one tenant in SQL.
--
-- Scoping: the caller's organization only; org-wide chunks (agent_id null) plus the
-- given agent's own; only chunks of `ready` documents; only vectors from the same
-- embedding model, so vectors of different models are never compared.
--
-- Index use: pgvector 0.6 serves `order by <column> <=> $q limit n` from the HNSW
-- index of that column, so each branch's inner query orders directly by the indexed
-- column and limits, with the scope as filters on the index scan; the threshold is
-- applied to those nearest rows outside (a distance filter inside would make the
-- planner expect few rows and sort them instead of using the index). The scan yields
-- at most `hnsw.ef_search` candidates before filtering, so the function raises it
-- (for its own duration only) to over-fetch when most neighbours belong to other
-- tenants. The column is picked by `vector_dims(query_embedding)`.
create function match_knowledge_chunks(
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
set hnsw.ef_search = 400
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
