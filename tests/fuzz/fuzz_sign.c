/* The first byte picks the parser; the rest is its input. Beyond not
 * crashing, each accepted input must survive a round trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bearssl.h>

#include "sign.h"

static const uint8_t point[RT_SIGN_POINT_LEN] = {
	0x04,
	0x60, 0xfe, 0xd4, 0xba, 0x25, 0x5a, 0x9d, 0x31, 0xc9, 0x61, 0xeb, 0x74,
	0xc6, 0x35, 0x6d, 0x68, 0xc0, 0x49, 0xb8, 0x92, 0x3b, 0x61, 0xfa, 0x6c,
	0xe6, 0x69, 0x62, 0x2e, 0x60, 0xf2, 0x9f, 0xb6,
	0x79, 0x03, 0xfe, 0x10, 0x08, 0xb8, 0xbc, 0x99, 0xa4, 0x1a, 0xe9, 0xe9,
	0x56, 0x28, 0xbc, 0x64, 0xf2, 0xf1, 0xb2, 0x0c, 0x2d, 0x7e, 0x9f, 0x51,
	0x77, 0xa3, 0xc2, 0x94, 0xd4, 0x46, 0x22, 0x99,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rt_err e;
	struct rt_sign_pub pub, pub2;
	struct rt_sign_key key, key2;
	char pem[RT_SIGN_PEM_MAX];
	uint8_t spki[RT_SIGN_SPKI_LEN];

	if (size < 1)
		return 0;
	rt_err_clear(&e);
	switch (data[0] % 4) {
	case 0:
		if (rt_sign_pub_read_pem(&pub, (const char *)data + 1, size - 1, &e) == 0) {
			if (rt_sign_pub_write_pem(&pub, pem, sizeof pem, &e) < 0 ||
				rt_sign_pub_read_pem(&pub2, pem, strlen(pem), &e) < 0 ||
				memcmp(&pub, &pub2, sizeof pub) != 0)
				abort();
		}
		break;
	case 1:
		/* Strict DER: exactly one accepted encoding per key. */
		if (rt_sign_pub_read_spki(&pub, data + 1, size - 1, &e) == 0) {
			rt_sign_pub_spki(&pub, spki);
			if (size - 1 != sizeof spki || memcmp(spki, data + 1, sizeof spki) != 0)
				abort();
		}
		break;
	case 2:
		if (rt_sign_key_read_pem(&key, (const char *)data + 1, size - 1, &e) == 0) {
			if (rt_sign_key_write_pem(&key, pem, sizeof pem, &e) < 0 ||
				rt_sign_key_read_pem(&key2, pem, strlen(pem), &e) < 0 ||
				memcmp(&key, &key2, sizeof key) != 0)
				abort();
			rt_sign_key_wipe(&key);
			rt_sign_key_wipe(&key2);
		}
		break;
	case 3: {
		/* A signature rt accepts is one BearSSL accepts too. */
		uint8_t q[RT_SIGN_POINT_LEN], h[RT_SHA256_LEN];
		br_ec_public_key pk = { BR_EC_secp256r1, q, sizeof q };

		memcpy(pub.q, point, sizeof point);
		if (rt_sign_verify(&pub, "sample", 6, data + 1, size - 1, &e) == 0) {
			memcpy(q, point, sizeof q);
			rt_sha256_buf("sample", 6, h);
			if (br_ecdsa_vrfy_asn1_get_default()(br_ec_get_default(), h, sizeof h,
					&pk, data + 1, size - 1) != 1)
				abort();
		}
		break;
	}
	}
	return 0;
}
