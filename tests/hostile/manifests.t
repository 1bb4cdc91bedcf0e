#!/bin/sh
# Hostile manifests, indexes, configs and archives: digests that do not
# match, lying sizes, manifest/index/config type confusion, digests that
# are paths or of another algorithm, duplicate keys, deep nesting, huge
# and fractional numbers, bad UTF-8, oversized documents, configs that
# disagree with their manifest, missing and symlinked blobs, foreign
# architectures and compressions, archives with ../ members, duplicate
# members and links out of the archive.
. "$(dirname "$0")/../integration/lib.sh"
. "$TOP/tests/hostile/lib-hostile.sh"

hcase digest-mismatch fail "*layer sha256:*: digest mismatch: content is sha256:*"
hcase size-smaller fail "*its descriptor says*"
hcase size-larger fail "*its descriptor says*"
hcase manifest-size-lie fail "*is 414 bytes, its descriptor says 409*"
hcase index-as-manifest fail "*descriptor says 'application/vnd.oci.image.manifest.v1+json', the content is an index*"
hcase manifest-as-index fail "*does not match the content*"
hcase config-is-manifest fail "*config: no rootfs layers*"
hcase digest-path fail "*want 64 hex characters*"
hcase digest-other-algo fail "*unsupported algorithm (want sha256)*"
hcase duplicate-keys fail "*duplicate key \"layers\"*"
hcase deep-nesting fail "*nesting deeper than 32*"
hcase huge-number fail "*bad or missing size*"
hcase float-size fail "*bad or missing size*"
hcase bad-utf8 fail "*invalid UTF-8*"
hcase big-manifest fail "*larger than 4194304 bytes*"
hcase diff-ids-count fail "*config lists 2 layers, the manifest 1*"
hcase missing-blob fail "*No such file or directory*"
hcase blob-symlink fail "*symbolic links*"
hcase other-arch fail "*image is for linux/s390x, not linux/amd64*"
hcase zstd-layer fail "*zstd layers are not supported*"
hcase bad-index fail "*index.json entry 1: *"
hcase bad-name fail "*repository name must be lowercase*"
hcase archive-dotdot fail "*path contains '..'*"
hcase archive-duplicate fail "*two members named 'index.json'*"
hcase archive-link-out fail "*archive link 'l/layer.tar' leaves the archive*"
if rt_requires_sig; then
	skip "archive-docker-lie: a docker save archive carries no signature, and this rt requires one"
else
	hcase archive-docker-lie fail "*layer sha256:2222*: digest mismatch*"
fi
hcase archive-junk fail "*bad header checksum*"
done_testing
