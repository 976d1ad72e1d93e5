/* blocklist_gate.c - the content of the prefix gate (segd_bl_pfx16,
 * segd_abi.h): one bit per group of addresses that some blocklist prefix
 * the IPv4 views do not answer for may cover; the datapath asks the LPM
 * trie only where the bit is set. IPv4-mapped addresses are grouped by
 * /16, everything else by a hash of its first 32 bits. Pure code; the
 * datapath writes the words (datapath_blocklist.c). */
#include "blocklist.h"

#include <string.h>
#include <arpa/inet.h>

static void gate_set(uint64_t *g, uint32_t bit)
{
	g[bit / 64] |= 1ull << (bit % 64);
}

static void gate_range(uint64_t *g, uint32_t lo, uint32_t n)
{
	for (uint32_t b = lo; b < lo + n; b++)
		gate_set(g, b);
}

/* the first n bits of a and b are equal */
static bool bits_eq(const uint8_t *a, const uint8_t *b, uint32_t n)
{
	uint32_t bytes = n / 8, rest = n % 8;

	if (memcmp(a, b, bytes))
		return false;
	return !rest || !((a[bytes] ^ b[bytes]) & (0xff00 >> rest));
}

/* the gate bits of every address the prefix k covers */
static void gate_add(uint64_t *g, const struct segd_lpm_key *k)
{
	static const uint8_t v4map[12] = { [10] = 0xff, [11] = 0xff };
	uint32_t len = k->prefixlen > 128 ? 128 : k->prefixlen;
	uint32_t w;

	/* IPv4-mapped addresses: by /16 */
	if (bits_eq(k->addr, v4map, len < 96 ? len : 96)) {
		if (len <= 96) {
			gate_range(g, 0, SEGD_BL_GATE_V6);
		} else {
			uint32_t l4 = len - 96, a = (uint32_t)k->addr[12] << 8 |
						    k->addr[13];

			if (l4 >= 16)
				gate_set(g, a);
			else
				gate_range(g, a & ~((1u << (16 - l4)) - 1),
					   1u << (16 - l4));
		}
		if (len >= 96)
			return;         /* nothing but IPv4-mapped addresses */
	}
	/* everything else: by a hash of the first 32 bits */
	if (len < 16) {
		gate_range(g, SEGD_BL_GATE_V6, SEGD_BL_GATE_BITS -
			   SEGD_BL_GATE_V6);
	} else if (len < 32) {
		uint32_t base = (uint32_t)k->addr[0] << 24 |
				(uint32_t)k->addr[1] << 16 |
				(uint32_t)k->addr[2] << 8 | k->addr[3];
		uint32_t span = 1u << (32 - len);

		base &= ~(span - 1);
		for (uint32_t i = 0; i < span; i++) {
			uint32_t be = htonl(base + i);

			memcpy(&w, &be, 4);
			gate_set(g, segd_bl_gate6(w));
		}
	} else {
		memcpy(&w, k->addr, 4);
		gate_set(g, segd_bl_gate6(w));
	}
}

void seg_bl_gate_fill(const struct seg_bl_prefix_entry *p, size_t n,
		      const struct seg_bl_net24_plan *plan, uint64_t *gate)
{
	memset(gate, 0, SEGD_BL_GATE_WORDS * sizeof(*gate));
	for (size_t i = 0; i < n; i++)
		if (!seg_bl_net24_planned(plan, &p[i].key) &&
		    !seg_bl_net16_prefix(&p[i].key))
			gate_add(gate, &p[i].key);
}
