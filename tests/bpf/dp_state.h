/* dp_state.h - build struct seg_compiled by hand (no compiler needed). */
#ifndef SEGD_TEST_DP_STATE_H
#define SEGD_TEST_DP_STATE_H

#include <stdint.h>
#include "compiler.h"

void st_init(struct seg_compiled *c);
void st_free(struct seg_compiled *c);
/* address (v4 or v6 text) -> exact ipcache entry */
int st_exact(struct seg_compiled *c, const char *addr, uint32_t identity,
	     uint32_t ifindex, uint32_t flags, uint32_t endpoint_id);
/* "203.0.113.0/24" or "2001:db8::/32" -> LPM entry */
int st_prefix(struct seg_compiled *c, const char *cidr, uint32_t identity);
/* the /0 entries user space always installs: v4 -> WORLD, v6 -> WORLD_V6 */
int st_world(struct seg_compiled *c);
int st_rule(struct seg_compiled *c, uint32_t local_id, uint32_t remote_id,
	    int dir, uint8_t proto, int port_kind, uint16_t port,
	    int verdict, uint32_t rule_id);
/* text address -> 16-byte (v4-mapped) form */
int st_addr(const char *text, struct segd_addr *out);

#endif
