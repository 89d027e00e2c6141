"""Retention: events older than event_retention_days are pruned, the user's
event_floor rises, and a replay that reaches into the pruned range says so
with complete=false (DESIGN §4, proto/asyncapi.yaml system.resumed)."""


from conftest import new_user, poll
from wsutil import Poster, replay_async, run, user_id
from dbutil import psql


async def replay(port, token, since):
    """Events and the system.resumed of a connection resuming after since."""
    return await replay_async(port, token, since, channels="jobs")


def test_pruned_range_is_reported(start_server):
    user = new_user("retention")
    first = start_server()
    poster = Poster(first.port, user.token)
    seqs = [poster.post("note.added", "jobs", {"n": i}) for i in range(3)]
    poster.close()
    uid = user_id(first.port, user.token)

    # The first two are made 40 days old; a new node prunes at its first tick.
    psql(f"UPDATE events SET created_at = now() - interval '40 days' "
         f"WHERE user_id = {uid} AND seq <= {seqs[1]}")
    second = start_server()
    poll(lambda: psql(f"SELECT count(*) FROM events WHERE user_id = {uid}") == "1",
         timeout=30, what="the old events pruned")
    assert psql(f"SELECT event_floor FROM users WHERE id = {uid}") == str(seqs[1])

    events, resumed = run(replay(second.port, user.token, 0))
    assert [e["seq"] for e in events] == [seqs[2]]
    assert resumed == {"since": 0, "last_seq": seqs[2], "replayed": 1, "complete": False,
                       "floor": seqs[1]}

    # A replay that starts after the floor is complete.
    events, resumed = run(replay(second.port, user.token, seqs[1]))
    assert [e["seq"] for e in events] == [seqs[2]]
    assert resumed["complete"] is True and resumed["floor"] == seqs[1]
