/* link_event.h - what a netlink link message says, and which interface
 * names segd watches. Pure (no syscalls): netlink.c feeds it the bytes it
 * reads, the unit tests feed it messages they build. */
#ifndef SEGD_LINK_EVENT_H
#define SEGD_LINK_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum seg_link_change {
	SEG_LINK_NEW,           /* RTM_NEWLINK: appeared, renamed or changed flags */
	SEG_LINK_DEL,           /* RTM_DELLINK: gone */
};

struct seg_link_event {
	enum seg_link_change change;
	uint32_t ifindex;
	char ifname[16];
	bool up;                /* IFF_UP */
};

/* Parse one RTM_NEWLINK/RTM_DELLINK message (header included). 0, -ENOENT
 * for a message of another type, -EINVAL for a malformed one. */
int seg_link_event_parse(const void *msg, size_t len, struct seg_link_event *out);

/* Does ifname match one of the fnmatch(3) patterns? */
bool seg_link_name_watched(char *const *patterns, size_t n, const char *ifname);

#endif /* SEGD_LINK_EVENT_H */
