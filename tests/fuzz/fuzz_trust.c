/* The first byte picks the parser: payload, .sig manifest, or reference
 * names. An accepted payload must survive a round trip through the writer
 * when it has the writer's shape. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trust.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rt_json_tok tok[RT_TRUST_TOK_MAX];
static struct rt_trust_sig sigs[RT_TRUST_SIGS_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rt_trust_payload p, q;
	char out[RT_TRUST_PAYLOAD_MAX + 512], ref[512], repo[RT_TRUST_REF_MAX];
	struct rt_err e;
	int n;

	if (size < 1)
		return 0;
	rt_err_clear(&e);
	switch (data[0] % 3) {
	case 0:
		if (rt_trust_payload_parse(&p, (const char *)data + 1, size - 1, tok,
					   RT_TRUST_TOK_MAX, &e) < 0)
			return 0;
		if (!p.identity[0] || strlen(p.identity) >= RT_TRUST_REF_MAX)
			abort();
		n = rt_trust_payload_write(out, sizeof out, p.identity, p.digest,
					   p.has_version ? &p.version : NULL, &e);
		if (n < 0)
			abort();
		if (rt_trust_payload_parse(&q, out, (size_t)n, tok, RT_TRUST_TOK_MAX, &e) < 0 ||
		    strcmp(p.identity, q.identity) || memcmp(p.digest, q.digest, sizeof p.digest) ||
		    p.version != q.version || p.has_version != q.has_version)
			abort();
		break;
	case 1:
		n = rt_trust_sigman_parse((const char *)data + 1, size - 1, sigs, RT_TRUST_SIGS_MAX,
					  tok, RT_TRUST_TOK_MAX, &e);
		if (n > RT_TRUST_SIGS_MAX)
			abort();
		for (int i = 0; i < n; i++)
			if (sigs[i].derlen == 0 || sigs[i].derlen > RT_SIGN_SIG_MAX)
				abort();
		break;
	default:
		if (size - 1 >= sizeof ref)
			return 0;
		memcpy(ref, data + 1, size - 1);
		ref[size - 1] = '\0';
		if (rt_trust_is_sig_ref(ref, NULL) && strlen(ref) < RT_TRUST_TAG_LEN - 1)
			abort();
		if (rt_trust_repo(ref, repo, sizeof repo, &e) == 0 &&
		    (!repo[0] || strlen(repo) > strlen(ref) || strncmp(repo, ref, strlen(repo))))
			abort();
		break;
	}
	return 0;
}
