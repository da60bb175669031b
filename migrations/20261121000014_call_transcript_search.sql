-- Transcript search on the Calls page, per call instead of per line.
--
-- The search collected every matching line through a GIN index on the lines, then listed the
-- calls among them: fine for a rare word, but a word said in 30,000 of 100,000 calls meant
-- reading and de-duplicating 30,000 calls' lines before showing 25 (~390 ms). With the words of
-- a call's whole transcript on the call row, the search is one more condition on `calls`: a
-- common word is found by walking `calls_org_started_id_idx` newest first and checking each
-- call (a third match, so a page is ~80 calls in), a rare one through this GIN index
-- (`store::call_history` picks between the two by the capped count).
--
-- Meaning: the words must occur anywhere in the call's transcript, no longer all in one line,
-- which is what "calls where these words were said" means to a person.
--
-- `strip`ped: positions serve phrase search and ranking, which the page does not do; without
-- them the vector stays small enough to live in the row, so checking a call costs no TOAST read.
alter table calls add column transcript_search tsvector not null default '';

-- What the search indexes of some lines (of one call, or of several: their union).
create function transcript_search_words(text) returns tsvector
language sql immutable parallel safe
as $$ select strip(to_tsvector('simple', $1)) $$;

-- Lines are appended while the call is live (and in bulk by imports and benches): each statement
-- adds its lines' words to their calls, each call once. The update takes the call row's lock,
-- so concurrent inserts for one call queue up and none of their words is lost.
create function calls_transcript_search_append() returns trigger
language plpgsql as $$
begin
    update calls c
       set transcript_search = c.transcript_search || added.words
      from (select call_id, transcript_search_words(string_agg(text, ' ')) as words
              from inserted group by call_id) added
     where c.id = added.call_id;
    return null;
end
$$;

create trigger call_transcript_lines_search_insert
    after insert on call_transcript_lines
    referencing new table as inserted
    for each statement execute function calls_transcript_search_append();

-- Lines are not edited or removed today (only cascaded away with their call), but should one
-- be, its words must stop matching: the calls it touched are rebuilt from the lines that remain.
-- Transition tables allow one event per trigger, hence one function per event.
create function calls_transcript_search_rebuild(call_ids uuid[]) returns void
language sql as $$
    update calls c
       set transcript_search = coalesce(
               (select transcript_search_words(string_agg(l.text, ' '))
                  from call_transcript_lines l where l.call_id = c.id), '')
     where c.id = any(call_ids);
$$;

create function calls_transcript_search_deleted() returns trigger
language plpgsql as $$
begin
    perform calls_transcript_search_rebuild(array(select distinct call_id from removed));
    return null;
end
$$;

create trigger call_transcript_lines_search_delete
    after delete on call_transcript_lines
    referencing old table as removed
    for each statement execute function calls_transcript_search_deleted();

create function calls_transcript_search_updated() returns trigger
language plpgsql as $$
begin
    perform calls_transcript_search_rebuild(
        array(select call_id from before_update union select call_id from after_update));
    return null;
end
$$;

create trigger call_transcript_lines_search_update
    after update on call_transcript_lines
    referencing old table as before_update new table as after_update
    for each statement execute function calls_transcript_search_updated();

update calls c
   set transcript_search = t.words
  from (select call_id, transcript_search_words(string_agg(text, ' ')) as words
          from call_transcript_lines group by call_id) t
 where c.id = t.call_id;

create index calls_transcript_search_idx on calls using gin (transcript_search);

-- Only the search read the per-line index, and every line insert paid for it.
drop index call_transcript_lines_text_idx;
