#!/bin/sh
# Write a C header holding the PEM public keys named in CONFIG_TRUST_KEYS,
# for rt to trust in addition to /etc/rt/keys.
#   boards/embed-keys.sh OUT.h KEY.pub...
set -eu
out=$1; shift
{
	echo "/* Generated from CONFIG_TRUST_KEYS by boards/embed-keys.sh. */"
	echo "static const struct { const char *name; const char *pem; } rt_builtin_keys[] = {"
	for k in "$@"; do
		[ -f "$k" ] || { echo "embed-keys: $k: no such key file" >&2; exit 1; }
		grep -q -- '-----BEGIN PUBLIC KEY-----' "$k" || { echo "embed-keys: $k: not a PEM public key" >&2; exit 1; }
		printf '\t{ "builtin:%s",\n' "$(basename "$k")"
		sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t  "/' -e 's/$/\\n"/' "$k"
		printf '\t},\n'
	done
	printf "\t{ 0, 0 },\n"
	printf "};\n"
} > "$out.tmp"
mv "$out.tmp" "$out"
