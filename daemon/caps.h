/* caps.h - does segd hold the capabilities it needs? Asked once at start:
 * without CAP_SYS_ADMIN a restarted segd cannot adopt its pinned maps and
 * programs (bpf_*_get_fd_by_id), and libxdp has been seen to crash after
 * the kernel refuses a map; better to refuse to start with a clear word. */
#ifndef SEGD_CAPS_H
#define SEGD_CAPS_H

#include <stddef.h>

/* 0 when the effective set holds CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN;
 * else -EPERM with the missing ones named in missing ("CAP_SYS_ADMIN"),
 * or -errno when the kernel cannot be asked. */
int segd_caps_check(char *missing, size_t len);

#endif /* SEGD_CAPS_H */
