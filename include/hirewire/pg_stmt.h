/* The pool's prepared statements: every distinct SQL text the pool runs gets
 * a small id, under which each connection prepares it once (named "hw<id>")
 * and then runs it without parsing and planning it again.
 *
 * Texts are found by content, not by address, so a caller's buffer that is
 * reused for another statement cannot run the wrong one. The table is
 * bounded: past its size a text gets no id and runs unprepared, so a caller
 * that builds SQL on the fly cannot make it grow for ever. */
#ifndef HIREWIRE_PG_STMT_H
#define HIREWIRE_PG_STMT_H

#include <stddef.h>

#define PG_STMT_MAX 512

struct pg_stmts;

struct pg_stmts *pg_stmts_new(void);
void pg_stmts_free(struct pg_stmts *s);

/* The id of sql (0 .. PG_STMT_MAX-1), given it on first sight; -1 when the
 * table is full or out of memory: the caller runs the text unprepared. */
int pg_stmts_id(struct pg_stmts *s, const char *sql);

/* Distinct texts known. */
int pg_stmts_count(const struct pg_stmts *s);

#endif
