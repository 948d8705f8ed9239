#!/bin/sh
# The container's commands (docs/production.md):
#   web          the web server (gunicorn, deploy/gunicorn.conf.py) on $PORT
#   worker       the background worker (guardian notices, the daily ladder and retention runs)
#   migrate      bring the database up to this version (run before web and worker start)
#   check        Django's deployment check with this environment
#   healthcheck  the image's HEALTHCHECK: asks the web server's /halsa/, or the worker's queue
# Anything else runs as given: `docker compose run --rm web fullfolj createsuperuser`.
set -eu

here=$(dirname "$0")
# Which of web and worker this container runs, for the healthcheck (a separate process later).
role_file=${FULLFOLJ_ROLE_FILE:-/tmp/fullfolj-role}

case "${1:-web}" in
web)
    echo web >"$role_file"
    exec gunicorn --config "$here/gunicorn.conf.py" fullfolj.wsgi
    ;;
worker)
    echo worker >"$role_file"
    exec fullfolj worker
    ;;
migrate)
    exec fullfolj migrate --noinput
    ;;
check)
    exec fullfolj check --deploy --fail-level WARNING
    ;;
healthcheck)
    case $(cat "$role_file" 2>/dev/null || true) in
    web)
        exec python -c '
import os, sys, urllib.request
url = "http://127.0.0.1:%s/halsa/" % os.environ.get("PORT", "8000")
try:
    urllib.request.urlopen(url, timeout=8)
except Exception as error:
    sys.exit("unhealthy: %s" % error)
'
        ;;
    worker)
        exec fullfolj health --worker
        ;;
    *)
        exit 0 # a one-off command (migrate, check): nothing to watch
        ;;
    esac
    ;;
*)
    exec "$@"
    ;;
esac
