"""The dashboard's two main questions answered by DuckDB over the same records, exported from a
Hamroh SQLite database to Parquet. Prints Markdown table rows like the Rust harness.

    python3 bench/duckdb/evidence.py PATH/TO/hamroh.db LAST_MONTH [RUNS]
"""
import os
import sqlite3
import statistics
import sys
import tempfile
import time

import duckdb


def months_back(month, n):
    total = (month // 100) * 12 + (month % 100 - 1) - n
    return (total // 12) * 100 + total % 12 + 1


def export(db_path, out):
    """Copies the tables the questions need to Parquet files (ids as hex text)."""
    src = sqlite3.connect(db_path)
    con = duckdb.connect()
    tables = {
        "persons": "SELECT hex(id) AS id, period_month, district, sex, birth_year, destination, work_sector FROM persons",
        "screenings": "SELECT hex(person_id) AS person_id, period_month, instrument, positive, flags FROM screenings",
        "referrals": "SELECT hex(r.id) AS id, hex(r.person_id) AS person_id, r.created_at, s.sector "
        "FROM referrals r JOIN services s ON s.id = r.service_id",
        "referral_events": "SELECT hex(referral_id) AS referral_id, to_status, at, barrier FROM referral_events",
    }
    for name, sql in tables.items():
        cur = src.execute(sql)
        cols = [d[0] for d in cur.description]
        csv_path = os.path.join(out, f"{name}.csv")
        with open(csv_path, "w", encoding="utf-8") as f:
            f.write(",".join(cols) + "\n")
            for row in cur:
                f.write(",".join("" if v is None else str(v) for v in row) + "\n")
        con.execute(f"COPY (SELECT * FROM read_csv_auto('{csv_path}', header=true)) TO '{out}/{name}.parquet' (FORMAT parquet)")
    return con


def main():
    db_path, last = sys.argv[1], int(sys.argv[2])
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    quarter_end = months_back(last, (last % 100 - 1) % 3 + 1)
    q_from, q_to = months_back(quarter_end, 2), quarter_end
    m_from = months_back(last, 23)
    with tempfile.TemporaryDirectory() as out:
        con = export(db_path, out)
        for name in ["persons", "screenings", "referrals", "referral_events"]:
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{out}/{name}.parquet')")
        # Every indicator for one quarter by region (Dushanbe time is UTC+5 for referral months).
        month_of = "CAST(strftime(to_timestamp(CAST({col} AS BIGINT) / 1000 + 18000), '%Y%m') AS BIGINT)"
        quarter = f"""
        WITH reg AS (SELECT split_part(district, '.', 1) AS region, count(*) AS n FROM persons
                     WHERE period_month BETWEEN {q_from} AND {q_to} GROUP BY 1),
        scr AS (SELECT split_part(p.district, '.', 1) AS region, s.instrument, count(*) AS screened,
                       sum(CASE WHEN s.positive = 1 THEN 1 ELSE 0 END) AS positive,
                       sum(CASE WHEN s.flags LIKE '%self_harm%' THEN 1 ELSE 0 END) AS self_harm
                FROM screenings s JOIN persons p ON p.id = s.person_id
                WHERE s.period_month BETWEEN {q_from} AND {q_to} GROUP BY 1, 2),
        ref AS (SELECT split_part(p.district, '.', 1) AS region, r.sector, count(*) AS sent,
                       count(acc.referral_id) AS accepted, count(att.referral_id) AS attended,
                       median(CASE WHEN att.t IS NOT NULL THEN (att.t - r.created_at) // 86400000 END) AS days
                FROM referrals r JOIN persons p ON p.id = r.person_id
                LEFT JOIN (SELECT referral_id, min("at") AS t FROM referral_events WHERE to_status = 'accepted' GROUP BY 1) acc ON acc.referral_id = r.id
                LEFT JOIN (SELECT referral_id, min("at") AS t FROM referral_events WHERE to_status = 'attended' GROUP BY 1) att ON att.referral_id = r.id
                WHERE {month_of.format(col='r.created_at')} BETWEEN {q_from} AND {q_to} GROUP BY 1, 2),
        bar AS (SELECT split_part(p.district, '.', 1) AS region, e.barrier, count(*) AS n
                FROM referral_events e JOIN referrals r ON r.id = e.referral_id JOIN persons p ON p.id = r.person_id
                WHERE e.barrier IS NOT NULL AND {month_of.format(col='e."at"')} BETWEEN {q_from} AND {q_to} GROUP BY 1, 2)
        SELECT (SELECT count(*) FROM reg), (SELECT count(*) FROM scr), (SELECT count(*) FROM ref), (SELECT count(*) FROM bar)
        """
        districts = f"""
        SELECT p.district, s.period_month, count(*) AS screened, sum(CASE WHEN s.positive = 1 THEN 1 ELSE 0 END)
        FROM screenings s JOIN persons p ON p.id = s.person_id
        WHERE s.instrument IN ('phq9', 'phq2') AND s.period_month BETWEEN {m_from} AND {last}
        GROUP BY 1, 2
        """
        for label, sql in [("every indicator, one quarter, by region", quarter), ("depression, 24 months, by district", districts)]:
            con.execute(sql).fetchall()  # warm up
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                con.execute(sql).fetchall()
                times.append(time.perf_counter() - start)
            print(f"| DuckDB {duckdb.__version__} (Parquet) | {label} | records | {statistics.median(times) * 1000:.1f} | {runs} |")


if __name__ == "__main__":
    main()
