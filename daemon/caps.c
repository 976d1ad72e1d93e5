/* caps.c - the capabilities segd needs (caps.h). */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "caps.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

int segd_caps_check(char *missing, size_t len)
{
	static const struct { int cap; const char *name; } need[] = {
		{ CAP_BPF, "CAP_BPF" },
		{ CAP_NET_ADMIN, "CAP_NET_ADMIN" },
		{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN" },
	};
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };
	size_t n = 0;

	missing[0] = '\0';
	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		int c = need[i].cap;

		if (data[c / 32].effective & (1u << (c % 32)))
			continue;
		if (n < len)
			n += (size_t)snprintf(missing + n, len - n, "%s%s", n ? ", " : "",
					      need[i].name);
	}
	return n ? -EPERM : 0;
}
