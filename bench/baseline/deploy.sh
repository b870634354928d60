#!/usr/bin/env bash
# Baseline of one deployment: what Slipway does for the sample store, as a plain shell script
# with no engine, no durability and no log. Clone the commit, apply the hotfix patches, run the
# build hook, copy the static content (cp -r), store the build, copy it into a release
# directory with the persistent mounts linked, maintenance flag on, run the deploy hook,
# switch the `current` symlink (ln -sfn, then mv -T: rename(2)), maintenance flag off, run the
# post-deploy hook.
#
# Usage: deploy.sh <remote> <commit> <base-dir> <release> <hooks-dir> <scd-job-file> <mount>...
#   hooks-dir holds build.sh, deploy.sh, post_deploy.sh (absent: no such hook) and env
#   (NUL-separated NAME=value pairs: the hooks' environment, as the engine builds it).
#   A mount is <path-in-app>=<shared-dir-name>.
set -euo pipefail
remote=$1 commit=$2 base=$3 release=$4 hooks=$5 scd=$6
shift 6

run_hook() { # <name> <dir>
  [ -f "$hooks/$1.sh" ] || return 0
  local -a env=()
  while IFS= read -r -d '' kv; do env+=("$kv"); done < "$hooks/env"
  (cd "$2" && env -i "${env[@]}" MAGENTO_CLOUD_TREE_ID="$tree" MAGENTO_CLOUD_APP_DIR="$2" HOME="$2" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 LC_ALL=C.UTF-8 \
    bash -e "$hooks/$1.sh") >> "$base/deploy.log" 2>&1
}

build="$base/builds/$release"
rm -rf "$build"
mkdir -p "$base/builds" "$base/slugs" "$base/releases" "$base/mounts"

# Build: clone, patches, build hook, static content, store.
git clone --quiet --shared --no-checkout "$remote" "$build"
git -C "$build" checkout --quiet --detach "$commit"
tree=$(git -C "$build" rev-parse "HEAD^{tree}")
if [ -d "$build/m2-hotfixes" ]; then
  for p in "$build"/m2-hotfixes/*.patch; do
    [ -e "$p" ] || continue
    git -C "$build" apply --check "m2-hotfixes/$(basename "$p")"
    git -C "$build" apply "m2-hotfixes/$(basename "$p")"
  done
fi
rm -rf "$build/.git"
run_hook build "$build"
"$(dirname "$0")/scd-cp.sh" "$build" "$scd"
mv "$build" "$base/slugs/$release"

# Deploy: copy into a release, mounts, maintenance, deploy hook, switch, post-deploy hook.
dir="$base/releases/$release"
rm -rf "$dir.tmp"
cp -a "$base/slugs/$release" "$dir.tmp"
for m in "$@"; do
  at=${m%%=*} shared=$base/mounts/${m#*=}
  mkdir -p "$shared"
  rm -rf "${dir:?}.tmp/$at"
  mkdir -p "$(dirname "$dir.tmp/$at")"
  ln -s "$shared" "$dir.tmp/$at"
done
mv "$dir.tmp" "$dir"
touch "$base/maintenance"
run_hook deploy "$dir"
ln -sfn "releases/$release" "$base/current.tmp"
mv -T "$base/current.tmp" "$base/current"
rm -f "$base/maintenance"
run_hook post_deploy "$dir"
