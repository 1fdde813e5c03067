"""Times the five queries of a page of visits on a SQLite data set of the bench.

    python3 docs/bench/page_queries.py target/bench/liaison-40000.db [cache KiB]

The first page and a page halfway through the visits, 50 visits each, with the
statements `db::visits::list` runs (the link queries' lists padded to 64 ids, as
`db::one_of` does) and a page cache of 3 MiB, as a pooled connection has (1 MiB
before the eighth round; give 1024 to see what that did). Each link
query's columns are summed inside SQLite, so that Python's cost of building rows is
not counted, and so without its `ORDER BY` (sorting a page's 50–150 links is left
out); the visits query returns its rows (50 of them). The data set is opened
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


def link_query(link, key, item, columns):
    """`embed`'s query for one kind of link, its columns summed: the visit's id and
    `columns` of the link table `link` joined to `item` on `link.key = item.id`."""
    summed = " + ".join(f"ifnull(length({c}), 0)" for c in ["l.visit_id", *columns])
    return (
        f"SELECT sum({summed}) FROM {link} l JOIN {item} i ON i.id = l.{key}"
        f" WHERE l.visit_id IN ({IN})"
    )


ITEM = ["i.id", "i.name", "i.enterprise_id", "i.stage", "i.archived_at", "i.name_key"]
LINKS = {
    "enterprises": link_query(
        "visit_enterprises",
        "enterprise_id",
        "enterprises",
        ["i.id", "i.name", "i.kind", "i.archived_at", "i.name_key"],
    ),
    "participants": link_query(
        "visit_participants",
        "participant_id",
        "participants",
        ["i.id", "i.full_name", "i.title", "i.side", "i.enterprise_id", "l.role",
         "i.archived_at", "i.name_key"],
    ),
    "order_classes": link_query("visit_order_classes", "order_class_id", "order_classes", ITEM),
    "internship_bases": link_query(
        "visit_internship_bases", "internship_base_id", "internship_bases", ITEM
    ),
}


def timed(conn, sql, params):
    start = time.perf_counter()
    for _ in range(ROUNDS):
        rows = conn.execute(sql, params).fetchall()
    return (time.perf_counter() - start) / ROUNDS * 1e6, rows


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(f"usage: {sys.argv[0]} <SQLite data set of the bench> [cache KiB, default 3072]")
    cache_kib = int(sys.argv[2]) if len(sys.argv) == 3 else 3072
    conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
    conn.execute(f"PRAGMA cache_size = -{cache_kib}")
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
