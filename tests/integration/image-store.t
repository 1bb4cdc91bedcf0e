#!/bin/sh
# The store and the image verbs: sharing a base layer, rmi and prune
# freeing exactly what nothing else uses, images/inspect/history/tag/df/
# verify output, several images per archive, stdin, compressed archives,
# two loads at once, the store's permissions.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/lib-image.sh"
. "$TOP/tests/integration/lib-sign.sh"

have_image_tools || skip_all "umoci and skopeo are not installed (make setup)"

L=$T/layout
mk_umoci_images "$L" >"$T/mk.log" 2>&1
ok $? "umoci images: base, app1, app2 (base + one layer each)"
skopeo copy -q "oci:$L:app1" "oci-archive:$T/app1.tar:docker.io/library/app:1" &&
skopeo copy -q "oci:$L:app2" "oci-archive:$T/app2.tar:docker.io/library/app:2" &&
skopeo copy -q --additional-tag web:latest --additional-tag web:v1 "oci:$L:app1" \
	"docker-archive:$T/web.tar:web:stable" &&
sign_image "$T/app1.tar" && sign_image "$T/app2.tar"
ok $? "archives (the OCI ones signed)"

# --- two loads at once, sharing the base layer -------------------------------
rt load -i "$T/app1.tar" > "$T/l1.out" 2>&1 &
p1=$!
rt load -i "$T/app2.tar" > "$T/l2.out" 2>&1
r2=$?
wait $p1
r1=$?
ok $((r1 + r2)) "two loads at once both succeed"
is "$(cat "$T/l1.out" "$T/l2.out" | sort | tr '\n' ' ')" "Loaded image: app:1 Loaded image: app:2 " "both report"
is "$(ls "$T/root/layers" | wc -l)" 3 "the shared base layer is stored once (3 layers for 2 images of 2)"
is "$(stat -c %a "$T/root")" 700 "the store is 0700"
is "$(ls -A "$T/root/tmp")" "" "nothing left in tmp"

out=$(rt df)
like "$out" "*Images*2*0*" "df counts 2 images, none in use"
like "$out" "*Layers*3*" "df counts 3 layers"
saved=$(echo "$out" | sed -n 's/.*sharing saves \(.*\)\./\1/p')
like "$saved" "[1-9]*B" "df says what sharing saved ($saved)"

# --- images ------------------------------------------------------------------
out=$(rt images)
like "$(echo "$out" | head -n 1)" "REPOSITORY   TAG       IMAGE ID       CREATED * SIZE" "images header, Docker's columns"
like "$(echo "$out" | grep '^app  *1 ')" "app          1         [0-9a-f]*   * ago*B" "a row"
is "$(rt images -q | wc -l)" 2 "images -q"
like "$(rt images -q | head -n 1)" "[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]" "12-digit IDs"
like "$(rt images --digests | sed -n 2p)" "app *[12] *sha256:*" "images --digests"
rt images --format json | $PY -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
assert len(rows) == 2 and {r["Tag"] for r in rows} == {"1", "2"}, rows
assert all(r["Repository"] == "app" and len(r["ID"]) == 12 and r["Size"].endswith("B") for r in rows)'
ok $? "images --format json: one object per line"
is "$(rt images app:2 | wc -l)" 2 "images REPO:TAG filters"

# --- inspect, history, tag ---------------------------------------------------
rt image inspect app:1 > "$T/insp.json"
$PY - "$T/insp.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert isinstance(j, list) and len(j) == 1
i = j[0]
for k in ("Id", "RepoTags", "RepoDigests", "Created", "Architecture", "Os", "Config", "RootFS", "Size"):
    assert k in i, k
assert i["RepoTags"] == ["app:1"], i["RepoTags"]
assert i["RepoDigests"][0].startswith("app@sha256:")
assert i["Id"].startswith("sha256:") and len(i["Id"]) == 71
assert i["Config"]["Cmd"] == ["/bin/sh"] and i["Config"]["Labels"] == {"rt.test": "1"}
assert len(i["RootFS"]["Layers"]) == 2 and i["RootFS"]["Type"] == "layers"
assert i["Size"] > 500000
assert len(i["GraphDriver"]["Data"]["LowerDir"].split(":")) == 2
PY
ok $? "inspect: Id, RepoTags, RepoDigests, Created, Architecture, Os, Config, RootFS.Layers, Size"
head -c 6 "$T/insp.json" | od -c | grep -q '\[  \\n' ; ok $? "inspect prints an indented JSON array"
err=$(rt image inspect nosuch 2>&1 >/dev/null)
r=$?
is "$r" 1 "inspect of nothing exits 1"
is "$err" "rt: inspect: No such image: nosuch" "and says so"

out=$(rt history app:1)
like "$(echo "$out" | head -n 1)" "IMAGE          CREATED * CREATED BY     SIZE      COMMENT" "history header"
is "$(echo "$out" | wc -l)" 4 "history: one line per step (2 repacks, 1 config)"
like "$(echo "$out" | sed -n 2p)" "[0-9a-f]* *ago*umoci*" "the newest step shows the image ID"
like "$(echo "$out" | tail -n 1)" "<missing>*umoci repack*B*" "older steps are <missing>"

rt tag app:1 local/thing:v9
ok $? "tag"
is "$(rt images -q local/thing:v9)" "$(rt images -q app:1)" "the new name is the same image"
rt tag nosuch x:1 2>/dev/null
is $? 1 "tag of nothing fails"

# --- several images and tags in one archive ---------------------------------
web="web:stable web:latest web:v1"
if rt_requires_sig; then
	err=$(rt load -i "$T/web.tar" 2>&1)
	like "$err" "rt: load: *web:*: signature: not signed*" "a docker archive (it cannot carry a signature) is refused"
	skip "a docker archive with three tags: it cannot carry a signature, and this rt requires one"
	web=
else
	out=$(rt load -i "$T/web.tar" | sort | tr '\n' ' ')
	is "$out" "Loaded image: web:latest Loaded image: web:stable Loaded image: web:v1 " "a docker archive with three tags"
	is "$(ls "$T/root/layers" | wc -l)" 5 "its layers are uncompressed, so stored apart from the OCI ones"
fi

# an OCI layout with two images
skopeo copy -q "oci:$L:app1" "oci:$T/two:docker.io/library/two:a" &&
skopeo copy -q "oci:$L:app2" "oci:$T/two:docker.io/library/two:b" &&
sign_image "$T/two"
out=$(rt load -i "$T/two" | sort | tr '\n' ' ')
is "$out" "Loaded image: two:a Loaded image: two:b " "an OCI layout with two images"

# compressed archive on stdin, through a pipe
gzip -c "$T/app2.tar" | rt load > "$T/gz.out" 2>&1
ok $? "a gzip'd archive through a pipe"
is "$(cat "$T/gz.out")" "Loaded image: app:2" "loads the same image"
is "$(rt load - < "$T/app2.tar" 2>&1)" "Loaded image: app:2" "rt load - reads stdin"

# --- verify --------------------------------------------------------------------
out=$(rt verify app:1)
ok $? "verify"
like "$out" "*verified*" "verify says what it checked"
lay=$(lowerdirs app:1 | cut -d: -f1)
echo tampered >> "$lay/app1"
err=$(rt verify app:1 2>&1 >/dev/null)
is $? 1 "verify finds a changed file in an unpacked layer"
like "$err" "rt: verify: app:1: layer sha256:*changed*" "and names the layer"

# --- rmi and prune free exactly what nothing else uses --------------------------
rt rmi app:1 local/thing:v9 two:a $web > "$T/rmi.out"
ok $? "rmi of every name of the app1 image (OCI and docker copies)"
like "$(cat "$T/rmi.out")" "*Untagged: app:1*Deleted: sha256:*" "rmi reports"
expected=$(for i in $(rt images -q | sort -u); do
	rt image inspect "$i" | $PY -c 'import json,sys; [print(p.split("/")[-2]) for p in json.load(sys.stdin)[0]["GraphDriver"]["Data"]["LowerDir"].split(":")]'
done | sort -u)
is "$(ls "$T/root/layers" | sort | tr '\n' ' ')" "$(echo "$expected" | tr '\n' ' ')" "the layers left are exactly those of the images left"
check_store
ok $? "the store is consistent"
rt rmi nosuch 2>"$T/err"
is $? 1 "rmi of nothing exits 1"
is "$(cat "$T/err")" "rt: rmi: No such image: nosuch:latest" "Docker's message"

rt tag app:2 keep:me
rt rmi app:2 two:b >/dev/null
is "$(ls "$T/root/layers" | wc -l)" 2 "an image with another tag keeps its layers"
rt load -i "$T/app1.tar" >/dev/null
rt tag app:1 dangling:x && rt load -i "$T/app2.tar" >/dev/null && rt rmi dangling:x >/dev/null
out=$(rt image prune -f)
like "$out" "Deleted Images:*Total reclaimed space: *B" "image prune reports"
rt image prune -a -f >/dev/null
ok $? "image prune -a"
is "$(rt images -q | wc -l)" 0 "no images left"
is "$(ls "$T/root/layers" "$T/root/blobs/sha256" | grep -c .)" 2 "and no layer or blob (only the two headings)"
done_testing
