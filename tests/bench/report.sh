# The report (sourced by run.sh): the machine and versions, a summary table
# (what tests/bench/readme.sh copies into the README), then one section per
# figure as the figure scripts wrote them.

machine_line() {
	_cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	_mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
	_os=$(. /etc/os-release && echo "$PRETTY_NAME")
	echo "$_cpu, $(nproc) cores, $_mem RAM; Linux $(uname -r) ($(uname -m)); $_os"
}
pkg_ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null | sed 's/^[0-9]*://; s/[-+].*//'; }

write_report() {
	R=$B/REPORT.md
	{
		echo "# rt benchmarks"
		echo
		echo "Made by \`make bench\` (tests/bench/run.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'), in $(($(date +%s) - START)) s."
		echo
		row "" ""
		row --- ---
		row machine "$(machine_line)"
		row rt "$("$RT" version 2>/dev/null | sed 's/  */ /g' | paste -sd ';' | sed 's/;/; /g') — $BUILD_NOTE (tree $(git describe --always --dirty 2>/dev/null))"
		row peers "crun $(pkg_ver crun), runc $(pkg_ver runc), LXC $(pkg_ver lxc), skopeo $(pkg_ver skopeo), umoci $(pkg_ver umoci), docker-registry $(pkg_ver docker-registry), GNU tar $(pkg_ver tar), gzip $(pkg_ver gzip), hyperfine $(pkg_ver hyperfine) (Debian packages)"
		row "load average" "$LOAD_START at the start, $LOAD_END at the end (1, 5, 15 min; other work on the machine shows here and widens min–max)"
		row "file systems" "tmpfs for every timing (inputs and outputs); a fresh loop-mounted ext4 per run for flash bytes"
		echo
		echo "## Summary"
		echo
		echo "<!-- summary:begin -->"
		row figure rt peers "rt ÷ peer" target
		row --- ---: --- ---: ---
		cat "$B/sections/summary.md" 2>/dev/null
		echo "<!-- summary:end -->"
		for n in 1 2 3 4 5 6 7 8; do
			[ -f "$B/sections/$n.md" ] || continue
			echo
			cat "$B/sections/$n.md"
		done
		echo
		echo "## How it is measured"
		echo
		echo "- Medians over repeated runs (hyperfine \`--export-json\`, \`-N\`: no shell between it and the"
		echo "  command; the raw times are in build/bench/json/). min and max show the spread."
		echo "- Peak RSS: \`/usr/bin/time -f %M\`, median of 3 runs (1 for umoci unpack); idle RSS: VmRSS from /proc."
		echo "- \"rt ÷ this\" below 1 means rt takes less (time, memory, bytes) than the program in that row."
		echo "- Targets are those set by the project's issues; ✓ met, ✗ not met, – not measured."
		echo "- A figure rt cannot give says why in its row: the verb is missing from this build, or failed"
		echo "  (its error is in build/bench/log/errors.log). The script finds out by running the verb."
	} > "$R.new" && mv "$R.new" "$R"
}
