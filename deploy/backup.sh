#!/bin/sh
# Back up the database (docs/production.md, "Backups"):
#   backup.sh          one dump now: $BACKUP_DIR/fullfolj-<UTC time>.dump (pg_dump -Fc),
#                      checked readable, then all but the newest $BACKUP_KEEP removed
#   backup.sh nightly  the same every day at $BACKUP_AT (local time of the container), forever
# Needs DATABASE_URL and pg_dump of the server's major version (the postgres image has both).
set -eu

: "${DATABASE_URL:?set DATABASE_URL to the database to back up}"
dir=${BACKUP_DIR:-/backups}
keep=${BACKUP_KEEP:-14}

backup_once() {
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    file="$dir/fullfolj-$stamp.dump"
    # Written under another name first: a dump cut short must never look like a backup.
    pg_dump --format=custom --no-owner --no-privileges --dbname="$DATABASE_URL" --file="$file.partial"
    pg_restore --list "$file.partial" >/dev/null
    mv "$file.partial" "$file"
    echo "backup: $file ($(wc -c <"$file") bytes)"
    # The names sort by time, oldest first: remove all but the newest $keep.
    set -- "$dir"/fullfolj-*.dump
    excess=$(($# - keep))
    while [ "$excess" -gt 0 ]; do
        rm -f -- "$1"
        echo "backup: removed $1"
        shift
        excess=$((excess - 1))
    done
}

case "${1:-once}" in
once)
    backup_once
    ;;
nightly)
    at=${BACKUP_AT:-02:00}
    while :; do
        now=$(date +%s)
        next=$(date -d "$at" +%s)
        [ "$next" -gt "$now" ] || next=$((next + 86400))
        sleep $((next - now))
        backup_once || echo "backup: FAILED at $(date -u +%FT%TZ)" >&2
    done
    ;;
*)
    echo "usage: backup.sh [once|nightly]" >&2
    exit 2
    ;;
esac
