# Sourced by the bench drivers that run the fluxion binary case by case (ns_validation.sh,
# dfg_cylinder.sh). Uses the caller's FLUXION, work, reuse (true/false), report_only (true/false).
#
# run NAME CONFIG [--set ...]: one `fluxion run` into $work/NAME (its log: $work/NAME.log, its command
# line: $work/NAME/cmd.txt, written only when the run succeeded, and the binary's build time:
# binary.txt). With reuse=true a folder whose
# cmd.txt matches and whose summary.json says completed is kept; with report_only=true nothing runs.
run() {
  local name="$1" config="$2"; shift 2
  local dir="$work/$name"
  local cmd=("$FLUXION" run "$config" "$@" --set "output.dir=$dir")
  if $reuse && [ -f "$dir/cmd.txt" ] && [ "$(cat "$dir/cmd.txt")" = "${cmd[*]}" ] \
     && grep -q '"status": *"completed"' "$dir/summary.json" 2>/dev/null; then
    echo "--- $name: reusing $dir"; return 0
  fi
  $report_only && return 0
  rm -rf "$dir"; mkdir -p "$dir"
  echo "--- $name: ${cmd[*]}"
  local t0=$SECONDS
  "${cmd[@]}" > "$work/$name.log" 2>&1 || {
    echo "$(basename "$0"): $name failed, see $work/$name.log" >&2; tail -3 "$work/$name.log" >&2; return 1; }
  echo "${cmd[*]}" > "$dir/cmd.txt"
  date -u -r "$FLUXION" '+%F %H:%M:%S UTC' > "$dir/binary.txt"   # the build this run used
  grep -E "time stepping|max \|div" "$work/$name.log" | sed 's/^/    /'
  echo "    ($((SECONDS - t0)) s wall)"
}
