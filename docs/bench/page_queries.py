"""Times the five queries of a page of visits on a SQLite data set of the bench.

    python3 docs/bench/page_queries.py target/bench/liaison-40000.db

The first page and a page halfway through the visits' span, 50 visits each, with
the statements `db::visits::list` runs (the link queries' lists padded to 64 ids,
as `db::one_of` does) and a 1 MiB page cache, as a pooled connection has. Each link
query's columns are summed inside SQLite, so that Python's cost of building rows is
not counted; the visits query returns its rows (50 of them). The data set is opened
read-only. docs/PERFORMANCE.md, seventh round, has what it found.
"""

import sqlite3
import sys
import time

ROUNDS = 2000
IDS = 64

VISITS = (
    "SELECT id, title, starts_at, ends_at, direction, location, purpose, summary,"
    " outcome, follow_up, follow_up_due, status, created_at, updated_at, version,"
    " archived_at FROM visits WHERE archived_at IS NULL AND starts_at >= ?"
    " AND starts_at < ? ORDER BY starts_at, id LIMIT 51"
)
IN = ",".join("?" * IDS)
LINKS = {
    "enterprises": "SELECT sum(length(ve.visit_id) + length(e.id) + length(e.name)"
    " + length(e.kind) + ifnull(length(e.archived_at), 0) + length(e.name_key))"
    " FROM visit_enterprises ve JOIN enterprises e ON e.id = ve.enterprise_id"
    f" WHERE ve.visit_id IN ({IN})",
    "participants": "SELECT sum(length(vp.visit_id) + length(p.id) + length(p.full_name)"
    " + ifnull(length(p.title), 0) + length(p.side) + ifnull(length(p.enterprise_id), 0)"
    " + length(vp.role) + ifnull(length(p.archived_at), 0) + length(p.name_key))"
    " FROM visit_participants vp JOIN participants p ON p.id = vp.participant_id"
    f" WHERE vp.visit_id IN ({IN})",
    "order_classes": "SELECT sum(length(vo.visit_id) + length(o.id) + length(o.name)"
    " + length(o.enterprise_id) + length(o.stage) + ifnull(length(o.archived_at), 0)"
    " + length(o.name_key))"
    " FROM visit_order_classes vo JOIN order_classes o ON o.id = vo.order_class_id"
    f" WHERE vo.visit_id IN ({IN})",
    "internship_bases": "SELECT sum(length(vi.visit_id) + length(i.id) + length(i.name)"
    " + length(i.enterprise_id) + length(i.stage) + ifnull(length(i.archived_at), 0)"
    " + length(i.name_key))"
    " FROM visit_internship_bases vi JOIN internship_bases i"
    f" ON i.id = vi.internship_base_id WHERE vi.visit_id IN ({IN})",
}


def timed(conn, sql, params):
    start = time.perf_counter()
    for _ in range(ROUNDS):
        rows = conn.execute(sql, params).fetchall()
    return (time.perf_counter() - start) / ROUNDS * 1e6, rows


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} <SQLite data set of the bench>")
    conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
    conn.execute("PRAGMA cache_size = -1024")
    (first,) = conn.execute("SELECT min(starts_at) FROM visits").fetchone()
    (count,) = conn.execute("SELECT count(*) FROM visits").fetchone()
    (middle,) = conn.execute(
        "SELECT starts_at FROM visits ORDER BY starts_at LIMIT 1 OFFSET ?", (count // 2,)
    ).fetchone()
    for page, start in (("first page", first), ("deep page", middle)):
        micros, rows = timed(conn, VISITS, (start, "9999-12-31"))
        ids = [row[0] for row in rows[:50]]
        ids += [ids[-1]] * (IDS - len(ids))
        figures = [f"visits {micros:.0f} µs"]
        total = micros
        for name, sql in LINKS.items():
            micros, _ = timed(conn, sql, ids)
            figures.append(f"{name} {micros:.0f} µs")
            total += micros
        print(f"{page}: {', '.join(figures)}; all five {total:.0f} µs")


if __name__ == "__main__":
    main()
