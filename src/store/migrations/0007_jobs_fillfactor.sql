-- A saved job is updated moments after its insert (the research reaction
-- links its company) and again at every status change. With full pages the
-- new row version goes to another page and every index of jobs gets a new
-- entry; with a tenth of each page kept free the update stays on its page
-- and touches no index (a heap-only update), since none of the columns it
-- changes is indexed. Pages written from now on keep the space; existing
-- ones are left as they are.
ALTER TABLE jobs SET (fillfactor = 90);
