#!/usr/bin/env bash
# Prints the bytes the audit trail takes in a SQLite database (its tables, their indexes and the
# search index's own tables), from SQLite's dbstat: the pages each uses. Usage:
# bench/scripts/audit-bytes.sh FILE.db
set -euo pipefail
sqlite3 "file:$1?mode=ro" "SELECT SUM(d.pgsize) FROM dbstat d JOIN sqlite_master m ON m.name = d.name WHERE m.tbl_name LIKE 'audit%';"
