# The benchmark's inputs (sourced by run.sh), made here from Debian packages:
#   $C/minbase.tar        debootstrap --variant=minbase, trimmed like a
#                         container base image (slow: made once, cached)
#   $IN/busybox/          a busybox rootfs (runtimes' start figures)
#   $IN/minbase-oci/      OCI layout, one gzip layer, made by umoci
#   $IN/minbase.tar.gz    that layer as a file (tar, zcat, flash figures)
#   $IN/multi-oci/        three layers: minbase, an app layer removing a tree
#                         (whiteouts), a layer replacing a directory
#   $IN/busybox-oci/      the busybox rootfs as a one-layer image
#   $IN/tls/              a local ECDSA P-256 CA and a cert for 127.0.0.1
#   $IN/key/              the signing key pair (openssl, as mkimage reads it)
# The layouts here are unsigned; stage_inputs copies them to tmpfs and signs
# the copies, so a newer mkimage never finds stale signatures.

IN=$B/inputs
INPUTS_VERSION=1
MIRROR=${BENCH_MIRROR:-http://deb.debian.org/debian}
SUITE=${BENCH_SUITE:-bookworm}

mk_busybox_rootfs() {
	mkdir -p "$1/bin" "$1/etc" "$1/tmp" "$1/proc" "$1/sys" "$1/dev" "$1/root"
	cp /bin/busybox "$1/bin/busybox"
	for a in $("$1/bin/busybox" --list); do
		[ -e "$1/bin/$a" ] || ln -s busybox "$1/bin/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\n' > "$1/etc/passwd"
	printf 'root:x:0:\n' > "$1/etc/group"
}

minbase_tar() {
	[ -f "$C/minbase.tar" ] && return 0
	log "debootstrap --variant=minbase $SUITE (once, about a minute; cached in $C)"
	mkdir -p "$C"
	d=$C/minbase.new
	rm -rf "$d"
	if ! debootstrap --variant=minbase "$SUITE" "$d" "$MIRROR" >"$B/log/debootstrap.log" 2>&1; then
		log "debootstrap failed, see $B/log/debootstrap.log"
		for m in proc sys dev/pts dev; do umount -l "$d/$m" 2>/dev/null; done
		return 1
	fi
	# What container base images leave out: package caches, docs, logs,
	# device nodes (a runtime makes /dev).
	(cd "$d" && rm -rf var/cache/apt/archives/*.deb var/lib/apt/lists/* usr/share/doc/* \
		usr/share/locale/* usr/share/man/* usr/share/info/* var/log/* dev/*)
	tar --numeric-owner --xattrs -C "$d" -cf "$C/minbase.tar.new" . &&
		mv "$C/minbase.tar.new" "$C/minbase.tar" && rm -rf "$d"
}

# umoci_image LAYOUT FILL...: a one-layer image in a new layout whose rootfs
# is made by the command FILL ROOTFS.
umoci_image() {
	l=$1
	shift
	rm -rf "$l" "$l.bundle"
	{ umoci init --layout "$l" &&
		umoci new --image "$l:latest" &&
		umoci unpack --image "$l:latest" "$l.bundle" &&
		"$@" "$l.bundle/rootfs" &&
		umoci repack --no-history --image "$l:latest" "$l.bundle" &&
		umoci config --no-history --image "$l:latest" --config.cmd /bin/sh &&
		umoci gc --layout "$l" &&
		rm -rf "$l.bundle"; } >>"$B/log/umoci.log" 2>&1
}
fill_minbase() { tar --numeric-owner -C "$1" -xf "$C/minbase.tar"; }
fill_busybox() { mk_busybox_rootfs "$1"; }

# The multi-layer image: minbase, then two layers made by umoci's diff.
multi_image() {
	l=$IN/multi-oci
	rm -rf "$l" "$l.bundle"
	multi_layers "$l" 2>>"$B/log/umoci.log"
}
multi_layers() {
	l=$1
	cp -a "$IN/minbase-oci" "$l" &&
		umoci unpack --image "$l:latest" "$l.bundle" >/dev/null || return 1
	r=$l.bundle/rootfs
	mkdir -p "$r/opt/app"
	cp /bin/busybox "$r/opt/app/busybox"
	rm -rf "$r/usr/share/zoneinfo" "$r/usr/share/perl5"
	echo bench > "$r/etc/hostname"
	umoci repack --no-history --refresh-bundle --image "$l:latest" "$l.bundle" || return 1
	rm -rf "$r/var/lib/dpkg/info" "$r/usr/lib/x86_64-linux-gnu/gconv"
	mkdir -p "$r/var/lib/dpkg/info"
	echo replaced > "$r/var/lib/dpkg/info/README"
	head -c 4194304 /dev/urandom > "$r/opt/app/data.bin"
	umoci repack --no-history --image "$l:latest" "$l.bundle" &&
		umoci gc --layout "$l" && rm -rf "$l.bundle"
}

# layer_of LAYOUT [N]: the path of the Nth (default first) layer blob of the
# image tagged latest.
layer_of() {
	$PY - "$1" "${2:-0}" <<'PY'
import json, sys
l = sys.argv[1]
blob = lambda d: "%s/blobs/%s" % (l, d.replace(":", "/"))
idx = json.load(open(l + "/index.json"))
m = [d for d in idx["manifests"]
     if d.get("annotations", {}).get("org.opencontainers.image.ref.name") == "latest"][0]
man = json.load(open(blob(m["digest"])))
print(blob(man["layers"][int(sys.argv[2])]["digest"]))
PY
}
nlayers() {
	$PY - "$1" <<'PY'
import json, sys
l = sys.argv[1]
idx = json.load(open(l + "/index.json"))
m = [d for d in idx["manifests"]
     if d.get("annotations", {}).get("org.opencontainers.image.ref.name") == "latest"][0]
print(len(json.load(open("%s/blobs/%s" % (l, m["digest"].replace(":", "/"))))["layers"]))
PY
}

mk_tls() {
	t=$IN/tls
	[ -f "$t/server.pem" ] && return 0
	mkdir -p "$t/certs.d"
	(cd "$t" &&
		openssl ecparam -name prime256v1 -genkey -noout -out ca.key &&
		openssl req -x509 -new -key ca.key -subj /CN=rt-bench-ca -days 3650 -out ca.pem &&
		openssl ecparam -name prime256v1 -genkey -noout -out server.key &&
		openssl req -new -key server.key -subj /CN=127.0.0.1 -out server.csr &&
		printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' > ext &&
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-days 3650 -extfile ext -out server.pem &&
		cp ca.pem certs.d/ca.crt) >"$B/log/openssl.log" 2>&1
}

prepare_inputs() {
	minbase_tar || return 1
	if [ "$(cat "$IN/.version" 2>/dev/null)" != $INPUTS_VERSION ]; then
		log "making the input images (umoci; about 30 s, once)"
		rm -rf "$IN"
		mkdir -p "$IN"
		mk_busybox_rootfs "$IN/busybox" &&
			umoci_image "$IN/minbase-oci" fill_minbase &&
			umoci_image "$IN/busybox-oci" fill_busybox &&
			multi_image &&
			ln "$(layer_of "$IN/minbase-oci")" "$IN/minbase.tar.gz" || return 1
		echo $INPUTS_VERSION > "$IN/.version"
	fi
	mk_tls || { log "openssl failed, see $B/log/openssl.log"; return 1; }
	if [ ! -f "$IN/key/bench.pub" ]; then
		mkdir -p "$IN/key"
		openssl ecparam -name prime256v1 -genkey -noout -out "$IN/key/bench.key" &&
			openssl ec -in "$IN/key/bench.key" -pubout -out "$IN/key/bench.pub" 2>/dev/null ||
			return 1
	fi
	return 0
}

# stage_inputs DIR: signed copies of the images under DIR (on tmpfs), and the
# key directory rt trusts. Sets SIGNED to what signing did.
stage_inputs() {
	mkdir -p "$1/keys"
	cp "$IN/key/bench.pub" "$1/keys/" 2>/dev/null
	SIGNED="signed by mkimage sign"
	for i in minbase busybox multi; do
		cp -a "$IN/$i-oci" "$1/$i-oci"
		sign_layout "$1/$i-oci" "bench/$i"
		[ -n "$(sig_tag "$1/$i-oci")" ] || SIGNED="unsigned (this mkimage did not sign)"
		# After signing: mkimage rewrites index.json with the names it knows.
		name_layout "$1/$i-oci" "bench/$i:latest"
	done
	# An OCI archive (a tar of a layout) of the signed minbase image.
	tar -C "$1/minbase-oci" -cf "$1/minbase.oci.tar" .
}

# name_layout LAYOUT NAME: give the image tagged latest a full name, in the
# annotation containerd and rt read (umoci and skopeo keep using "latest").
name_layout() {
	$PY - "$1" "$2" <<'PY'
import json, sys
p = sys.argv[1] + "/index.json"
idx = json.load(open(p))
for d in idx["manifests"]:
    a = d.setdefault("annotations", {})
    if a.get("org.opencontainers.image.ref.name") == "latest":
        a["io.containerd.image.name"] = sys.argv[2]
json.dump(idx, open(p, "w"))
PY
}

# sign_layout LAYOUT IDENTITY
sign_layout() {
	"$MKIMAGE" sign --key "$IN/key/bench.key" --identity "$2" "$1" >>"$B/log/sign.log" 2>&1
}

# sig_tag LAYOUT: the signature tag of the image tagged latest, if any.
sig_tag() {
	$PY - "$1" <<'PY'
import json, sys
idx = json.load(open(sys.argv[1] + "/index.json"))
for d in idx["manifests"]:
    n = d.get("annotations", {}).get("org.opencontainers.image.ref.name", "")
    if n.endswith(".sig"):
        print(n)
PY
}
