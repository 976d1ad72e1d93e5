/* text_memo.c - texts made once, looked up by what they name
 * (text_memo.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "text_memo.h"

#define CHUNK_BYTES 65536   /* texts are copied into chunks this large */

struct seg_memo_slot {
	uint64_t key;
	uint32_t kind;        /* 0: empty */
	const char *text;
};

struct seg_memo_chunk {
	struct seg_memo_chunk *next;
	size_t used, size;
	char bytes[];
};

void seg_text_memo_init(struct seg_text_memo *m)
{
	memset(m, 0, sizeof(*m));
}

void seg_text_memo_clear(struct seg_text_memo *m)
{
	while (m->chunks) {
		struct seg_memo_chunk *c = m->chunks;

		m->chunks = c->next;
		free(c);
	}
	if (m->n)
		memset(m->slots, 0, m->cap * sizeof(*m->slots));
	m->n = 0;
}

void seg_text_memo_free(struct seg_text_memo *m)
{
	seg_text_memo_clear(m);
	free(m->slots);
	seg_text_memo_init(m);
}

static size_t slot_of(uint32_t kind, uint64_t key, size_t cap)
{
	uint64_t h = (key ^ ((uint64_t)kind << 56)) * 0x9e3779b97f4a7c15ull;

	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static struct seg_memo_slot *probe(const struct seg_text_memo *m, uint32_t kind,
				   uint64_t key)
{
	size_t i = slot_of(kind, key, m->cap);

	/* the load stays under a half: an empty slot ends every probe */
	while (m->slots[i].kind && (m->slots[i].kind != kind || m->slots[i].key != key))
		i = (i + 1) & (m->cap - 1);
	return &m->slots[i];
}

const char *seg_text_memo_get(const struct seg_text_memo *m, uint32_t kind, uint64_t key)
{
	return m->cap ? probe(m, kind, key)->text : NULL;
}

static int grow(struct seg_text_memo *m)
{
	size_t cap = m->cap ? m->cap * 2 : 256;
	struct seg_memo_slot *old = m->slots, *s;
	size_t old_cap = m->cap;

	s = calloc(cap, sizeof(*s));
	if (!s)
		return -ENOMEM;
	m->slots = s;
	m->cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].kind)
			*probe(m, old[i].kind, old[i].key) = old[i];
	free(old);
	return 0;
}

/* Room for len bytes in the newest chunk, or a new chunk. */
static char *room(struct seg_text_memo *m, size_t len)
{
	struct seg_memo_chunk *c = m->chunks;
	char *p;

	if (!c || c->size - c->used < len) {
		size_t size = len > CHUNK_BYTES ? len : CHUNK_BYTES;

		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->used = 0;
		c->size = size;
		c->next = m->chunks;
		m->chunks = c;
	}
	p = c->bytes + c->used;
	c->used += len;
	return p;
}

const char *seg_text_memo_put(struct seg_text_memo *m, uint32_t kind, uint64_t key,
			      const char *text)
{
	size_t len = strlen(text) + 1;
	struct seg_memo_slot *s;
	char *copy;

	if ((m->n + 1) * 2 > m->cap && grow(m))
		return NULL;
	if (!(copy = room(m, len)))
		return NULL;
	memcpy(copy, text, len);
	s = probe(m, kind, key);
	*s = (struct seg_memo_slot){ key, kind, copy };
	m->n++;
	return copy;
}
