#!/usr/bin/env bash
# The deploy hook's schema migrations: applies the files of db/migrations/ (<number>-<name>.sql,
# in the order of their numbers) that the database has not seen yet, each with the mysql
# client, and records each in the database's schema_version table (the schema's version is
# the highest number there; 0 before any). A migration that fails stops here, exit 1, with
# the client's error, its version not recorded.
#
# The database is the `database` relationship of MAGENTO_CLOUD_RELATIONSHIPS; bin/db-options.php
# hands its credentials to the client in a 0600 options file in /tmp (removed on exit): the
# password is on no command line and in no output. Without that relationship, nothing to do.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${MAGENTO_CLOUD_DEPLOY_MODE:-${SLIPWAY_DEPLOY_MODE:-unknown}}

status=0
options=$(php bin/db-options.php) || status=$?
if [ "$status" -eq 3 ]; then
  echo "no database relationship: no migrations to apply"
  exit 0
elif [ "$status" -ne 0 ]; then
  echo "cannot read the database relationship" >&2
  exit 1
fi
trap 'rm -f "$options"' EXIT

client=$(command -v mariadb || command -v mysql) || {
  echo "no mysql client on PATH (mariadb or mysql)" >&2
  exit 1
}
sql() {
  "$client" --defaults-file="$options" --batch --skip-column-names "$@"
}

# The migrations by number; a name that is not <number>-<name>.sql, or a number used twice, stops the deploy.
declare -A migrations=()
for file in db/migrations/*.sql; do
  [ -e "$file" ] || continue
  name=$(basename "$file")
  if ! [[ $name =~ ^([0-9]{1,9})(-[A-Za-z0-9._-]+)?\.sql$ ]]; then
    echo "$file: a migration's name is its number, then - and a name: 003-add-stock.sql" >&2
    exit 1
  fi
  number=$((10#${BASH_REMATCH[1]}))
  if [ -n "${migrations[$number]:-}" ]; then
    echo "$file: ${migrations[$number]} has the number $number already" >&2
    exit 1
  fi
  migrations[$number]=$file
done

sql -e "CREATE TABLE IF NOT EXISTS schema_version (
  version INT UNSIGNED NOT NULL PRIMARY KEY,
  migration VARCHAR(255) NOT NULL,
  applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
)"
version=$(sql -e "SELECT COALESCE(MAX(version), 0) FROM schema_version")
echo "deploy mode: $mode; schema at version $version"

for number in $(printf '%s\n' "${!migrations[@]}" | sort -n); do
  [ "$number" -gt "$version" ] || continue
  file=${migrations[$number]}
  # The migration, then its record: the client stops at the first error, so a migration that
  # fails is not recorded.
  if ! { cat "$file"; printf '\n;\nINSERT INTO schema_version (version, migration) VALUES (%d, '\''%s'\'');\n' "$number" "$(basename "$file")"; } | sql; then
    echo "$file failed: schema left at version $version" >&2
    exit 1
  fi
  version=$number
  echo "applied $file"
done
echo "schema at version $version"
