/* bench_tc.h - one BPF_PROG_TEST_RUN of a tc program, for the tools/bench
 * programs that time segd's tc hooks (static inline: each bench is its own
 * binary).
 */
#ifndef SEGD_BENCH_TC_H
#define SEGD_BENCH_TC_H

#include <errno.h>
#include <stdint.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

/* pkt through tc program fd on ifindex, repeat times; *ns: the kernel's
 * mean ns per run, *rv: the verdict. 0 or -errno. */
static inline int tc_test_run(int fd, uint32_t ifindex, const uint8_t *pkt, int len,
			      uint32_t repeat, uint32_t *ns, uint32_t *rv)
{
	struct __sk_buff skb = { .ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (uint32_t)len,
		    .ctx_in = &skb, .ctx_size_in = sizeof(skb), .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	*ns = o.duration;
	*rv = o.retval;
	return 0;
}

#endif
