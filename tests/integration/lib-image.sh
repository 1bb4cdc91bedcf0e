# Helpers for the image tests: images made with umoci from a busybox
# rootfs, the merged view of a loaded image, store snapshots.
# Source after lib.sh.

PY=/usr/bin/python3
TREECMP="$TOP/tests/integration/treecmp.py"

have_image_tools() {
	command -v umoci >/dev/null && command -v skopeo >/dev/null
}

# umoci_layer LAYOUT FROM TO SCRIPT: unpack image FROM, run SCRIPT (sh) in
# its rootfs, repack as TO.
umoci_layer() {
	rm -rf "$T/.bundle"
	umoci unpack --image "$1:$2" "$T/.bundle" >/dev/null || return 1
	(cd "$T/.bundle/rootfs" && sh -ec "$4") || return 1
	umoci repack --image "$1:$3" "$T/.bundle" >/dev/null || return 1
	rm -rf "$T/.bundle"
}

# mk_umoci_images LAYOUT: tags base (busybox), v2 (base + a layer that
# deletes, replaces and adds, with owners, modes, links and xattrs), app1
# and app2 (base + one small layer each).
mk_umoci_images() {
	L=$1
	umoci init --layout "$L" >/dev/null &&
	umoci new --image "$L:empty" >/dev/null &&
	umoci_layer "$L" empty base "$(declare_rootfs)" &&
	umoci config --image "$L:base" --config.cmd /bin/sh --config.env PATH=/bin \
		--config.workingdir / --config.label rt.test=1 >/dev/null &&
	umoci_layer "$L" base v2 '
		rm -f etc/group bin/yes
		rm -rf root && mkdir root && echo new > root/fresh
		mkdir -p srv/www/sub && echo hello > srv/www/index.html
		chown -R 1000:100 srv && chmod 0750 srv/www
		ln -s ../www/index.html srv/www/sub/link
		ln srv/www/index.html srv/hard
		mkfifo srv/fifo
		cp bin/busybox bin/su-like && chmod 4755 bin/su-like
		setfattr -n user.rt -v test srv/www/index.html
		setfattr -n security.capability -v 0sAQAAAgAgAAAAAAAAAAAAAAAAAAA= bin/su-like
		printf "x%.0s" $(seq 1 3000) > srv/big
		touch -d 2001-02-03T04:05:06 srv/big
	' &&
	umoci_layer "$L" base app1 'echo one > app1' &&
	umoci_layer "$L" base app2 'echo two > app2'
}

# The script that fills the base layer with a busybox rootfs.
declare_rootfs() {
	printf 'mkdir -p bin etc tmp proc sys dev root
cp /bin/busybox bin/busybox
for a in $(bin/busybox --list); do [ -e bin/$a ] || ln -s busybox bin/$a; done
printf "root:x:0:0:root:/root:/bin/sh\\n" > etc/passwd
printf "root:x:0:\\n" > etc/group
chmod 1777 tmp
'
}

# lowerdirs IMAGE: the overlay lower dirs of a loaded image, top first.
lowerdirs() {
	rt image inspect "$1" | $PY -c 'import json,sys; print(json.load(sys.stdin)[0]["GraphDriver"]["Data"]["LowerDir"])'
}

# merged IMAGE DIR: mount the image's layers as overlay on DIR (an upper
# and work dir on tmpfs, as a container gets).
merged() {
	lo=$(lowerdirs "$1") || return 1
	mkdir -p "$2" "$2.u" "$2.w"
	mount -t overlay overlay -o "lowerdir=$lo,upperdir=$2.u,workdir=$2.w,redirect_dir=nofollow,metacopy=off" "$2"
}

# snapshot: every final name in the store, and the references.
snapshot() {
	(cd "$T/root" && ls blobs/sha256 layers 2>/dev/null; cat refs/images 2>/dev/null) | sort
}

# check_store: every blob matches its name, every layer is complete and
# every referenced image verifies.
check_store() {
	bad=0
	for b in "$T"/root/blobs/sha256/*; do
		[ -f "$b" ] || continue
		[ "$(sha256sum < "$b" | cut -d' ' -f1)" = "$(basename "$b")" ] || { echo "# bad blob $b"; bad=1; }
	done
	for l in "$T"/root/layers/*; do
		[ -d "$l" ] || continue
		[ -d "$l/diff" ] && [ -f "$l/info" ] || { echo "# incomplete layer $l"; bad=1; }
	done
	for d in $(cut -d' ' -f1 "$T/root/refs/images" 2>/dev/null | sort -u); do
		rt verify "$d" >/dev/null 2>&1 || { echo "# image $d does not verify"; bad=1; }
	done
	return $bad
}
