#!/usr/bin/env bash
# Baseline of the static content deploy: `cp -r` of the same files, one (theme, locale) job
# after another. For each job, each ancestor theme's web/ (root first) and its
# web/i18n/<locale>/ are copied over the output; the copied i18n/ tree is then dropped.
# Usage: scd-cp.sh <app-dir> <job-file>   (job file: locale TAB out-dir TAB web-dir...)
set -euo pipefail
app=$1
jobs=$2
cd "$app"
while IFS=$'\t' read -r -a job; do
  [ "${#job[@]}" -ge 2 ] || continue
  locale=${job[0]}
  out=${job[1]}
  mkdir -p "$out"
  for web in "${job[@]:2}"; do
    [ -d "$web" ] || continue
    cp -r "$web/." "$out/"
    if [ -d "$web/i18n/$locale" ]; then cp -r "$web/i18n/$locale/." "$out/"; fi
  done
  rm -rf "$out/i18n"
done < "$jobs"
