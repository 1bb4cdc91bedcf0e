#!/bin/sh
# Build rt's dependencies for one architecture from Debian's source packages:
# musl (the C library every board uses), BearSSL and zlib, installed into one
# prefix with a compiler wrapper, cached outside the work tree.
#
#   boards/deps.sh ARCH        ARCH: x86_64 armv7 mipsel aarch64, or "host"
#                              (glibc, for the sanitizer unit tests: BearSSL
#                              and zlib only)
#
# Prints nothing but errors when the cache is already complete.
set -eu
# Called from rt's Makefile: its command-line variables (O=, BOARD=) must not
# reach the dependencies' own makes (BearSSL's O is its object suffix).
unset MAKEFLAGS MFLAGS MAKEOVERRIDES MAKELEVEL

arch=$1
cache=${RT_CACHE:-$HOME/.cache/rt}
src=$cache/src

# Pinned sources: Debian bookworm packages and the SHA-256 of what we unpack.
MUSL_PKG=musl=1.2.3-1
MUSL_TAR=musl_1.2.3.orig.tar.gz
MUSL_SHA=7d5b0b6062521e4627e099e4c9dc8248d32a30285e959b7eecaa780cf8cfd4a4
BEARSSL_PKG=bearssl=0.6+dfsg.1-3
BEARSSL_TAR=bearssl_0.6+dfsg.1.orig.tar.xz
BEARSSL_SHA=102a625bd8f6155260867a50c508df8d8c3f796985dd744df1a68e5cd1a79004
ZLIB_PKG=zlib=1:1.2.13.dfsg-1
ZLIB_TAR=zlib_1.2.13.dfsg.orig.tar.bz2
ZLIB_SHA=71feb7947e3c00ef125f83b79a4e529bde31171e5babe48b391f06758d1ab0a1

case $arch in
x86_64)  triple=x86_64-linux-gnu;    cflags="" ;;
armv7)   triple=arm-linux-gnueabihf; cflags="-march=armv7-a+fp -mthumb" ;;
mipsel)  triple=mipsel-linux-gnu;    cflags="-march=mips32r2" ;;
aarch64) triple=aarch64-linux-gnu;   cflags="" ;;
host)    triple=""; cflags="" ;;
*) echo "deps: unknown arch '$arch'" >&2; exit 2 ;;
esac
cflags="-Os -ffunction-sections -fdata-sections $cflags"
[ "$arch" = host ] && cflags="-O2 -g -fPIC"

prefix=$cache/$arch
stamp=$prefix/.complete
want="$MUSL_SHA $BEARSSL_SHA $ZLIB_SHA $cflags"

# Linux UAPI headers (linux/, asm/, asm-generic/) next to musl's, from
# Debian's linux-libc-dev for the host and its -cross packages for the rest.
headers() {
	[ "$arch" = host ] && return 0
	[ -f "$prefix/include/linux/version.h" ] && return 0
	if [ "$arch" = x86_64 ]; then
		k=/usr/include asm=/usr/include/x86_64-linux-gnu/asm
	else
		k=/usr/$triple/include asm=/usr/$triple/include/asm
	fi
	[ -f "$k/linux/version.h" ] && [ -d "$asm" ] || {
		echo "deps: no Linux headers for $arch in $k (run 'make setup')" >&2
		exit 1
	}
	cp -R "$k/linux" "$k/asm-generic" "$prefix/include/"
	cp -R "$asm" "$prefix/include/asm"
	[ -d "$k/mtd" ] && cp -R "$k/mtd" "$prefix/include/"
	return 0
}

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	headers
	exit 0
fi

fetch() {   # fetch PKG TAR SHA: download the source package once, check it
	if [ ! -f "$src/$2" ]; then
		mkdir -p "$src"
		# The Debian revision may move on (a security update); the
		# upstream tarball it carries is what is pinned, by checksum.
		(cd "$src" && { apt-get source --download-only -qq "$1" ||
			apt-get source --download-only -qq "${1%%=*}"; } >/dev/null 2>&1) || {
			echo "deps: cannot download source package $1 (is a deb-src entry configured? run 'make setup')" >&2
			exit 1
		}
	fi
	echo "$3  $src/$2" | sha256sum -c --quiet - || {
		echo "deps: $2 does not match its pinned checksum" >&2
		exit 1
	}
}

unpack() {  # unpack TAR DIR: a fresh tree of a pinned source
	rm -rf "$2"
	mkdir -p "$2"
	tar -xf "$src/$1" -C "$2" --strip-components=1
}

fetch "$MUSL_PKG" "$MUSL_TAR" "$MUSL_SHA"
fetch "$BEARSSL_PKG" "$BEARSSL_TAR" "$BEARSSL_SHA"
fetch "$ZLIB_PKG" "$ZLIB_TAR" "$ZLIB_SHA"

work=$prefix/build
rm -rf "$prefix"
mkdir -p "$work" "$prefix/bin" "$prefix/lib" "$prefix/include"
jobs=$(nproc 2>/dev/null || echo 2)

if [ "$arch" = host ]; then
	cc=gcc
	ar=ar
	ranlib=ranlib
else
	echo "deps: building musl for $arch" >&2
	unpack "$MUSL_TAR" "$work/musl"
	(cd "$work/musl" &&
	 ./configure --target="$triple" CROSS_COMPILE="$triple-" --prefix="$prefix" \
		--disable-shared CFLAGS="$cflags" &&
	 make -j"$jobs" && make install) > "$work/musl.log" 2>&1 || {
		tail -20 "$work/musl.log" >&2
		exit 1
	}
	ldso=/lib/ld-musl.so.1   # never used: everything is static
	sh "$work/musl/tools/musl-gcc.specs.sh" "$prefix/include" "$prefix/lib" "$ldso" \
		> "$prefix/lib/musl-gcc.specs"
	cat > "$prefix/bin/cc" <<WRAP
#!/bin/sh
exec $triple-gcc "\$@" -specs "$prefix/lib/musl-gcc.specs"
WRAP
	chmod +x "$prefix/bin/cc"
	cc=$prefix/bin/cc
	ar=$triple-ar
	ranlib=$triple-ranlib
fi

echo "deps: building BearSSL for $arch" >&2
unpack "$BEARSSL_TAR" "$work/bearssl"
make -C "$work/bearssl" -j"$jobs" lib CONF=Unix BUILD=out CC="$cc" AR="$ar" \
	CFLAGS="$cflags" LDDLL=true >/dev/null
cp "$work/bearssl/out/libbearssl.a" "$prefix/lib/"
cp "$work/bearssl/inc/"*.h "$prefix/include/"

echo "deps: building zlib for $arch" >&2
unpack "$ZLIB_TAR" "$work/zlib"
(cd "$work/zlib" &&
 CC="$cc" AR="$ar" RANLIB="$ranlib" CFLAGS="$cflags" \
	./configure --static --prefix="$prefix" >/dev/null &&
 make -j"$jobs" libz.a >/dev/null)
cp "$work/zlib/libz.a" "$prefix/lib/"
cp "$work/zlib/zlib.h" "$work/zlib/zconf.h" "$prefix/include/"

headers
rm -rf "$work"
echo "$want" > "$stamp"
