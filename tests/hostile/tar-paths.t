#!/bin/sh
# Hostile tar layers, paths and links: ../ and absolute names (plain,
# ustar prefix, GNU longname, PAX path), writes through symlinks, a symlink
# named ".", same-name replacement of symlinks and hardlinks, hardlinks out
# of the layer or to symlinks, metadata following a link, whiteouts that
# leave the layer or go through a symlink, a directory that becomes a
# symlink in a later layer.
. "$(dirname "$0")/../integration/lib.sh"
. "$TOP/tests/hostile/lib-hostile.sh"

hcase dotdot fail "*path contains '..'*"
hcase dotdot-prefix fail "*path contains '..'*"
hcase dotdot-gnulong fail "*path contains '..'*"
hcase dotdot-pax fail "*path contains '..'*"
hcase hardlink-dotdot fail "*hardlink target: path contains '..'*"
hcase hardlink-outside fail "*entry 'h': hardlink target not in the layer*"
hcase hardlink-through-symlink fail "*entry 'h': hardlink target not in the layer*"
hcase symlink-write fail "*entry 'evil/pwned': a parent is a symlink or a file*"
hcase symlink-dot fail "*empty path*"
hcase whiteout-dotdot fail "*bad whiteout name*"
hcase whiteout-symlink fail "*entry 'd/.wh.victim': a parent is a symlink or a file*"
hcase whiteout-opaque-symlink fail "*a parent is a symlink or a file*"

# accepted, but confined to the layer
hcase absolute ok
top=$(top_layer hostile:absolute)
[ -f "$top/$CANARY/abs" ] && [ ! -e "$CANARY/abs" ]
ok $? "an absolute name lands inside the layer, as Docker does"

hcase symlink-replace ok
top=$(top_layer hostile:symlink-replace)
[ -f "$top/s" ] && [ ! -L "$top/s" ] && [ "$(cat "$top/s")" = replaced ]
ok $? "a file replaces a symlink of the same name instead of writing through it"

hcase hardlink-replace ok
top=$(top_layer hostile:hardlink-replace)
[ "$(cat "$top/a")" = original ] && [ "$(cat "$top/h")" = "new content" ] && [ "$(stat -c %h "$top/a")" = 1 ]
ok $? "a file replaces a hardlink without writing into the inode it shared"

hcase hardlink-symlink ok
top=$(top_layer hostile:hardlink-symlink)
[ -L "$top/h" ] && [ "$(readlink "$top/h")" = "$CANARY/file" ]
ok $? "a hardlink to a symlink is that symlink, never its target"

hcase chmod-through-link ok
top=$(top_layer hostile:chmod-through-link)
[ -d "$top/c" ] && [ "$(stat -c %a "$CANARY/file")" = 600 ]
ok $? "a directory entry replaces a symlink; chmod never follows it"

hcase meta-through-link ok
top=$(top_layer hostile:meta-through-link)
[ -f "$top/x" ] && [ "$(stat -c %a "$top/x")" = 4777 ] && [ "$(getfattr --only-values -n user.pwned "$top/x" 2>/dev/null)" = 1 ]
ok $? "mode, mtime and xattrs land on the new file, not on the link's target"

hcase dir-becomes-symlink ok
[ ! -e "$CANARY/new" ]
ok $? "a later layer writing below a directory that became a symlink stays in its own layer"
done_testing
