-- The scheduler claims due rows ORDER BY due_at, id. With an index on
-- due_at alone, rows that share a due time (a burst: thousands due in the
-- same second) came out of the index unordered by id, so each batch sorted
-- every remaining due row again before taking the first few hundred. With
-- id in the index the batch is read in order and the scan stops at the
-- batch size.
CREATE INDEX followups_pending_due_id ON followups (due_at, id) WHERE state = 'pending';
DROP INDEX followups_pending_due;
