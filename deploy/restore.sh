#!/bin/sh
# Restore a dump of backup.sh into an empty database (docs/production.md, "Restore"):
#   DATABASE_URL=postgres://.../fullfolj_restored restore.sh /backups/fullfolj-<time>.dump
# Then point the containers at it and run `migrate` (it says so if the dump is from an older
# version). Stops at the first error and leaves what it wrote; drop the database to try again.
set -eu

: "${DATABASE_URL:?set DATABASE_URL to the empty database to restore into}"
if [ $# -ne 1 ] || [ ! -f "$1" ]; then
    echo "usage: restore.sh DUMP_FILE" >&2
    exit 2
fi

pg_restore --exit-on-error --no-owner --no-privileges --single-transaction \
    --dbname="$DATABASE_URL" "$1"
echo "restore: $1 into the database of DATABASE_URL"
