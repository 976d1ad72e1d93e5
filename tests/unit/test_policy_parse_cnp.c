/* test_policy_parse_cnp.c - policy.networking.k8s.io ClusterNetworkPolicy
 * (v1beta1 and v1alpha2) -> model, table-driven like test_policy_parse.c:
 * accepted documents state their model as canonical text (describe() in
 * policy_parse_fixtures.h, which also checks the `source` round trip),
 * rejected ones one schema rule a row, with the exact line:col and a
 * message fragment. Then the compiler's refusal of tiers it does not
 * enforce yet (the state dir round trip is in test_state_config.c).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "policy_parse_fixtures.h"

/* Lines 1-4 of every snippet; the spec body starts on line 5. */
#define CNP_HDR(v) "apiVersion: policy.networking.k8s.io/" v "\n" \
	"kind: ClusterNetworkPolicy\nmetadata: {name: cnp}\nspec:\n"
#define CNP CNP_HDR("v1beta1")
#define CNPA CNP_HDR("v1alpha2")
/* lines 5-7: tier, priority, subject; rules start on line 8 */
#define SPEC "  tier: Admin\n  priority: 5\n  subject: {namespaces: {}}\n"
#define HEAD CNP SPEC
#define HEADA CNPA SPEC
/* the model of HEAD's first line */
#define M "/cnp admin/5 enforce="
/* line 8, then rules from line 9 */
#define IN HEAD "  ingress:\n"
#define OUT HEAD "  egress:\n"
/* line 8-11, then protocols entries from line 12 (column 7) */
#define PROTOS IN "  - action: Deny\n    from: [{namespaces: {}}]\n    protocols:\n"

/* one rule, five, 25, 26 */
#define R1 "  - {action: Deny, from: [{namespaces: {}}]}\n"
#define R5 R1 R1 R1 R1 R1
#define R25 R5 R5 R5 R5 R5
/* one block-style peer of a rule (column 7), five, 25 */
#define P1 "    - namespaces: {}\n"
#define P5 P1 P1 P1 P1 P1
#define P25 P5 P5 P5 P5 P5
#define T1 "    - tcp: {destinationPort: {number: 80}}\n"
#define T5 T1 T1 T1 T1 T1
#define T25 T5 T5 T5 T5 T5
#define A10 "aaaaaaaaaa"
#define A100 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10

/* ---- accepted documents ------------------------------------------------------ */

static struct vcase cnp_valid[] = {
	{ "minimal: no rules, no direction touched",
	  HEAD, M "- subject={}@ns{}" },
	{ "v1alpha2 parses the same",
	  HEADA, M "- subject={}@ns{}" },
	{ "Baseline, priority 0, subject pods with both selectors",
	  CNP "  tier: Baseline\n  priority: 0\n  subject:\n    pods:\n"
	      "      namespaceSelector: {matchLabels: {team: a}}\n"
	      "      podSelector: {matchLabels: {app: db}}\n",
	  "/cnp baseline/0 enforce=- subject={app=db}@ns{team=a}" },
	{ "subject pods without namespaceSelector: every namespace",
	  CNP "  tier: Admin\n  priority: 1000\n"
	      "  subject: {pods: {podSelector: {matchExpressions: [{key: app, operator: Exists}]}}}\n",
	  "/cnp admin/1000 enforce=- subject={app}@ns{}" },
	{ "subject namespaces with a selector",
	  CNP "  tier: Admin\n  priority: 1\n"
	      "  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: shop}}}\n",
	  "/cnp admin/1 enforce=- subject={}@ns{kubernetes.io/metadata.name=shop}" },
	{ "the three actions, names, namespaces and pods peers",
	  IN "  - name: allow-team-x\n    action: Accept\n"
	     "    from: [{namespaces: {matchLabels: {team: x}}}]\n"
	     "  - action: Deny\n    from: [{pods: {podSelector: {matchLabels: {app: web}}}}]\n"
	     "  - {action: Pass, from: [{pods: {namespaceSelector: {}, podSelector: {}}}]}\n",
	  M "in subject={}@ns{} | in allow \"allow-team-x\" peers=[pods{}@ns{team=x}] ports=*"
	  " | in deny peers=[pods{app=web}@ns{}] ports=* | in pass peers=[pods{}@ns{}] ports=*" },
	{ "egress only: ingress untouched; nodes, networks and domainNames peers",
	  OUT "  - action: Accept\n    to:\n"
	      "    - nodes: {matchLabels: {role: infra}}\n"
	      "    - networks: [10.0.0.0/8, 'fd00::/8', 0.0.0.0/0, '::/0', 192.0.2.7/32]\n"
	      "    - domainNames: [example.com, '*.Kubernetes.IO.']\n",
	  M "out subject={}@ns{} | out allow peers=[nodes{role=infra} cidr 10.0.0.0/8"
	  " cidr fd00::/8 cidr 0.0.0.0/0 cidr ::/0 cidr 192.0.2.7/32 domain example.com"
	  " domain *.kubernetes.io] ports=*" },
	{ "both directions; egress namespaces and pods peers",
	  HEAD "  ingress: [{action: Deny, from: [{namespaces: {}}]}]\n"
	       "  egress: [{action: Pass, to: [{namespaces: {}}, {pods: {podSelector: {}}}]}]\n",
	  M "in,out subject={}@ns{} | in deny peers=[pods{}@ns{}] ports=*"
	  " | out pass peers=[pods{}@ns{} pods{}@ns{}] ports=*" },
	{ "protocols: number, range, every protocol, named port",
	  PROTOS "    - tcp: {destinationPort: {number: 80}}\n"
		 "    - udp: {destinationPort: {range: {start: 53, end: 5353}}}\n"
		 "    - sctp: {destinationPort: {range: {start: 9003, end: 9005}}}\n"
		 "    - tcp: {destinationPort: {range: {start: 1, end: 65535}}}\n"
		 "    - destinationNamedPort: web\n",
	  M "in subject={}@ns{} | in deny peers=[pods{}@ns{}]"
	  " ports=[tcp/80 udp/53-5353 sctp/9003-9005 tcp/1-65535 any:web]" },
	{ "egress named port with pods peers is fine",
	  OUT "  - action: Accept\n    to: [{pods: {podSelector: {matchLabels: {app: dns}}}}]\n"
	      "    protocols: [{destinationNamedPort: dns}, {udp: {destinationPort: {number: 53}}}]\n",
	  M "out subject={}@ns{} | out allow peers=[pods{app=dns}@ns{}] ports=[any:dns udp/53]" },
	{ "fail closed: an Accept rule with an empty peer matches nothing",
	  IN "  - {action: Accept, from: [{namespaces: {}}, {}],"
	     " protocols: [{tcp: {destinationPort: {number: 80}}}]}\n",
	  M "in subject={}@ns{} | in allow failclosed peers=[none] ports=[tcp/80]" },
	{ "fail closed: a Deny rule with an empty peer denies everything",
	  OUT "  - {action: Deny, to: [{}],"
	      " protocols: [{tcp: {destinationPort: {number: 80}}}]}\n",
	  M "out subject={}@ns{} | out deny failclosed peers=* ports=*" },
	{ "fail closed: a Pass rule with a null peer or only null fields denies everything",
	  OUT "  - action: Pass\n    to:\n    -\n    - {networks: null, nodes: ~}\n"
	      "  - {action: Accept, to: [{nodes: {}}]}\n",
	  M "out subject={}@ns{} | out deny failclosed peers=* ports=*"
	  " | out allow peers=[nodes{}] ports=*" },
	{ "null fields are unset: ingress null, egress [], pods null",
	  HEAD "  ingress: null\n  egress: [{action: Deny, to: [{namespaces: {}, pods: null}],"
	       " protocols: ~}]\n",
	  M "out subject={}@ns{} | out deny peers=[pods{}@ns{}] ports=*" },
	{ "empty rule lists touch no direction",
	  HEAD "  ingress: []\n  egress: []\n", M "- subject={}@ns{}" },
	{ "v1alpha2: a network with host bits means its network",
	  HEADA "  egress: [{action: Deny, to: [{networks: [10.1.2.3/8, 'fd00::1/8']}]}]\n",
	  M "out subject={}@ns{} | out deny peers=[cidr 10.0.0.0/8 cidr fd00::/8] ports=*" },
	{ "v1alpha2: its domain pattern lets '_' begin a label",
	  HEADA "  egress: [{action: Accept, to: [{domainNames: [_sip._tcp.example.com]}]}]\n",
	  M "out subject={}@ns{} | out allow peers=[domain _sip._tcp.example.com] ports=*" },
	{ "domain names: '-' and '_' inside labels, digits, one-letter labels",
	  OUT "  - {action: Accept, to: [{domainNames: [a-b_c.d.e9, '*.x.y', 1.2.3.com]}]}\n",
	  M "out subject={}@ns{} | out allow peers=[domain a-b_c.d.e9 domain *.x.y domain 1.2.3.com] ports=*" },
	{ "a rule name of 100 characters, status and labels are fine",
	  "apiVersion: policy.networking.k8s.io/v1beta1\nkind: ClusterNetworkPolicy\n"
	  "metadata: {name: cnp, labels: {a: b}}\nspec:\n" SPEC
	  "  ingress: [{name: " A100 ", action: Deny, from: [{namespaces: {}}]}]\n"
	  "status: {conditions: []}\n",
	  M "in subject={}@ns{} | in deny \"" A100 "\" peers=[pods{}@ns{}] ports=*" },
	{ "annotation segd.io/mode: audit",
	  "apiVersion: policy.networking.k8s.io/v1beta1\nkind: ClusterNetworkPolicy\n"
	  "metadata: {name: cnp, annotations: {segd.io/mode: audit}}\nspec:\n" SPEC,
	  M "- subject={}@ns{} audit" },
	{ "metadata.namespace null is no namespace",
	  "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\n"
	  "metadata: {name: cnp, namespace: null}\nspec:\n" SPEC,
	  M "- subject={}@ns{}" },
};

TABLE_TEST(cnp, valid, cnp_valid, check_valid)

/* ---- rejected documents: one schema rule a row ----------------------------- */

static struct ecase cnp_invalid[] = {
	/* envelope */
	{ "cluster-scoped: metadata.namespace is an error",
	  "apiVersion: policy.networking.k8s.io/v1beta1\nkind: ClusterNetworkPolicy\n"
	  "metadata: {name: cnp, namespace: a}\nspec: {}\n",
	  "3:34", "ClusterNetworkPolicy is cluster-scoped; remove metadata.namespace" },
	{ "apiVersion v1alpha1",
	  "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: ClusterNetworkPolicy\n",
	  "1:13", "use policy.networking.k8s.io/v1beta1 or policy.networking.k8s.io/v1alpha2" },
	{ "AdminNetworkPolicy is gone",
	  "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\n",
	  "2:7", "replaced by ClusterNetworkPolicy (tier: Admin or Baseline)" },
	{ "missing apiVersion",
	  "kind: ClusterNetworkPolicy\nmetadata: {name: a}\n",
	  "1:1", "needs apiVersion: policy.networking.k8s.io/v1beta1" },
	{ "bad name", "apiVersion: policy.networking.k8s.io/v1beta1\n"
	  "kind: ClusterNetworkPolicy\nmetadata: {name: A_b}\nspec: {}\n",
	  "3:18", "invalid metadata.name 'A_b'" },
	{ "two with one name",
	  HEAD "---\n" HEAD, "11:18", "duplicate policy ClusterNetworkPolicy cnp" },
	{ "unknown top-level field", HEAD "stauts: {}\n", "8:1", "did you mean 'status'?" },
	/* spec, tier, priority */
	{ "unknown spec field", CNP "  tier: Admin\n  priorty: 5\n", "6:3", "did you mean 'priority'?" },
	{ "spec not a mapping", CNP "  - tier\n", "5:3", "ClusterNetworkPolicy spec must be a mapping" },
	{ "missing tier", CNP "  priority: 5\n  subject: {namespaces: {}}\n",
	  "5:3", "needs tier: Admin or Baseline" },
	{ "null tier", CNP "  tier:\n  priority: 5\n", "5:3", "needs tier: Admin or Baseline" },
	{ "tier spelt otherwise", CNP "  tier: admin\n", "5:9", "unknown tier 'admin'" },
	{ "tier NetworkPolicy is not one", CNP "  tier: NetworkPolicy\n", "5:9", "use Admin or Baseline" },
	{ "missing priority", CNP "  tier: Admin\n  subject: {namespaces: {}}\n",
	  "5:3", "needs priority: a number from 0 to 1000" },
	{ "priority above 1000", CNP "  tier: Admin\n  priority: 1001\n",
	  "6:13", "priority 1001 is out of range; use a number from 0 to 1000" },
	{ "priority below 0", CNP "  tier: Admin\n  priority: -1\n", "6:13", "priority -1 is out of range" },
	{ "priority quoted", CNP "  tier: Admin\n  priority: \"5\"\n", "6:13", "is quoted, which makes it a string" },
	{ "priority not an integer", CNP "  tier: Admin\n  priority: 1.5\n",
	  "6:13", "priority must be a number from 0 to 1000, not '1.5'" },
	/* subject */
	{ "missing subject", CNP "  tier: Admin\n  priority: 5\n", "5:3", "needs subject" },
	{ "subject with both", CNP "  tier: Admin\n  priority: 5\n"
	  "  subject: {namespaces: {}, pods: {podSelector: {}}}\n",
	  "7:29", "subject takes exactly one of namespaces or pods, not both" },
	{ "subject empty", CNP "  tier: Admin\n  priority: 5\n  subject: {}\n",
	  "7:12", "subject needs namespaces or pods" },
	{ "subject pods without podSelector", CNP "  tier: Admin\n  priority: 5\n"
	  "  subject: {pods: {namespaceSelector: {}}}\n", "7:19", "subject.pods needs podSelector" },
	{ "subject typo", CNP "  tier: Admin\n  priority: 5\n  subject: {namespace: {}}\n",
	  "7:13", "did you mean 'namespaces'?" },
	{ "subject selector not a mapping", CNP "  tier: Admin\n  priority: 5\n"
	  "  subject: {namespaces: [a]}\n", "7:25", "subject.namespaces must be a mapping" },
	{ "subject selector bad operator", CNP "  tier: Admin\n  priority: 5\n"
	  "  subject: {namespaces: {matchExpressions: [{key: a, operator: in, values: [b]}]}}\n",
	  "7:64", "unknown operator 'in'" },
	/* rules */
	{ "ingress not a list", HEAD "  ingress: {}\n", "8:12", "ingress must be a list" },
	{ "26 ingress rules", IN R25 R1, "34:5", "ingress has 26 items; ClusterNetworkPolicy allows at most 25" },
	{ "26 egress rules", HEAD "  egress:\n" R25 R1, "34:5", "egress has 26 items" },
	{ "null rule", IN "  - null\n", "9:5", "empty rule; a rule needs action and from" },
	{ "rule without action", IN "  - {}\n", "9:5", "rule needs action: Accept, Deny or Pass" },
	{ "action spelt otherwise", IN "  - {action: accept, from: [{namespaces: {}}]}\n",
	  "9:14", "unknown action 'accept'; use Accept, Deny or Pass" },
	{ "action Allow is not one", IN "  - {action: Allow, from: [{namespaces: {}}]}\n",
	  "9:14", "unknown action 'Allow'" },
	{ "ingress rule with to", IN "  - {action: Deny, to: [{namespaces: {}}]}\n",
	  "9:20", "ingress rules take 'from', not 'to'" },
	{ "egress rule with from", OUT "  - {action: Deny, from: [{namespaces: {}}]}\n",
	  "9:20", "egress rules take 'to', not 'from'" },
	{ "unknown rule field", IN "  - {action: Deny, from: [{namespaces: {}}], ports: []}\n",
	  "9:46", "unknown field 'ports' in ingress rule" },
	{ "missing from", IN "  - {action: Deny}\n", "9:5", "ingress rule needs 'from' with at least one peer" },
	{ "from null", IN "  - {action: Deny, from: null}\n", "9:20", "ingress rule needs 'from'" },
	{ "from empty", IN "  - {action: Deny, from: []}\n", "9:26", "from is empty" },
	{ "26 peers", IN "  - action: Deny\n    from:\n" P25 P1, "36:7", "from has 26 items" },
	{ "rule name of 101 characters", IN "  - {name: " A100 "a, action: Deny, from: [{namespaces: {}}]}\n",
	  "9:12", "rule name has 101 characters; at most 100" },
	{ "rule name not a string", IN "  - {name: [a], action: Deny, from: [{namespaces: {}}]}\n",
	  "9:12", "rule name must be a string" },
	/* peers */
	{ "ingress peer networks", IN "  - {action: Deny, from: [{networks: [10.0.0.0/8]}]}\n",
	  "9:28", "'networks' is an egress peer; ingress peers take namespaces or pods" },
	{ "ingress peer domainNames", IN "  - {action: Accept, from: [{domainNames: [a.b]}]}\n",
	  "9:30", "'domainNames' is an egress peer" },
	{ "peer with two fields", OUT "  - {action: Deny, to: [{namespaces: {}, nodes: {}}]}\n",
	  "9:42", "egress peer takes exactly one of namespaces, pods, nodes, networks or domainNames" },
	{ "unknown peer field", OUT "  - {action: Deny, to: [{services: {}}]}\n",
	  "9:26", "unknown field 'services' in egress peer" },
	{ "peer not a mapping", OUT "  - {action: Deny, to: [namespaces]}\n",
	  "9:25", "egress peer must be a mapping" },
	{ "pods peer without podSelector", OUT "  - {action: Deny, to: [{pods: {namespaceSelector: {}}}]}\n",
	  "9:32", "pods peer needs podSelector" },
	{ "pods peer with null podSelector", OUT "  - {action: Deny, to: [{pods: {podSelector: null}}]}\n",
	  "9:33", "pods peer needs podSelector" },
	{ "nodes not a mapping", OUT "  - {action: Deny, to: [{nodes: []}]}\n", "9:33", "nodes must be a mapping" },
	/* networks */
	{ "networks empty", OUT "  - {action: Deny, to: [{networks: []}]}\n", "9:36", "networks is empty" },
	{ "networks not a list", OUT "  - {action: Deny, to: [{networks: 10.0.0.0/8}]}\n",
	  "9:36", "networks must be a list" },
	{ "26 networks", OUT "  - action: Deny\n    to:\n    - networks: [0.0.0.0/32, 0.0.0.1/32,"
	  " 0.0.0.2/32, 0.0.0.3/32, 0.0.0.4/32, 0.0.0.5/32, 0.0.0.6/32, 0.0.0.7/32, 0.0.0.8/32,"
	  " 0.0.0.9/32, 0.0.1.0/32, 0.0.1.1/32, 0.0.1.2/32, 0.0.1.3/32, 0.0.1.4/32, 0.0.1.5/32,"
	  " 0.0.1.6/32, 0.0.1.7/32, 0.0.1.8/32, 0.0.1.9/32, 0.0.2.0/32, 0.0.2.1/32, 0.0.2.2/32,"
	  " 0.0.2.3/32, 0.0.2.4/32, 0.0.2.5/32]\n", "11:318", "networks has 26 items" },
	{ "network without prefix length", OUT "  - {action: Deny, to: [{networks: [10.0.0.1]}]}\n",
	  "9:37", "'10.0.0.1' needs a prefix length; write e.g. 10.0.0.1/32" },
	{ "v1beta1: host bits", OUT "  - {action: Deny, to: [{networks: [10.0.0.1/8]}]}\n",
	  "9:37", "has host bits set; v1beta1 takes the network address: did you mean 10.0.0.0/8?" },
	{ "v1beta1: IPv6 host bits", OUT "  - {action: Deny, to: [{networks: ['fd00::1/8']}]}\n",
	  "9:37", "did you mean fd00::/8?" },
	{ "prefix length with a leading zero", OUT "  - {action: Deny, to: [{networks: [10.0.0.0/08]}]}\n",
	  "9:37", "a number from 0 to 32, without leading zeros" },
	{ "prefix length above 32", HEADA "  egress: [{action: Deny, to: [{networks: [10.0.0.0/33]}]}]\n",
	  "8:44", "a number from 0 to 32" },
	{ "prefix length above 128", OUT "  - {action: Deny, to: [{networks: ['fd00::/129']}]}\n",
	  "9:37", "a number from 0 to 128" },
	{ "empty prefix length", OUT "  - {action: Deny, to: [{networks: [10.0.0.0/]}]}\n",
	  "9:37", "prefix length must be a number" },
	{ "not an address", OUT "  - {action: Deny, to: [{networks: [10.0.0.300/24]}]}\n",
	  "9:37", "'10.0.0.300' is not an IPv4 or IPv6 address" },
	{ "IPv4 with a leading zero", OUT "  - {action: Deny, to: [{networks: [010.0.0.0/8]}]}\n",
	  "9:37", "is not an IPv4 or IPv6 address" },
	{ "IPv4-mapped IPv6", OUT "  - {action: Deny, to: [{networks: ['::ffff:10.0.0.0/104']}]}\n",
	  "9:37", "IPv4-mapped IPv6 prefix" },
	{ "longer than 43 characters", OUT "  - {action: Deny, to: [{networks:"
	  " ['1111:2222:3333:4444:5555:6666:255.255.255.255/128']}]}\n", "9:37", "longer than 43 characters" },
	{ "a network twice", OUT "  - {action: Deny, to: [{networks: [10.0.0.0/8, 10.0.0.0/8]}]}\n",
	  "9:49", "networks entry '10.0.0.0/8' is listed twice (items 1 and 2)" },
	{ "network not a string", OUT "  - {action: Deny, to: [{networks: [{a: b}]}]}\n",
	  "9:37", "networks entry must be a string" },
	/* domainNames */
	{ "domainNames in a Deny rule", OUT "  - {action: Deny, to: [{domainNames: [example.com]}]}\n",
	  "9:26", "domainNames peers go only in Accept rules" },
	{ "domainNames in a Pass rule", OUT "  - {action: Pass, to: [{domainNames: [example.com]}]}\n",
	  "9:26", "only in Accept rules" },
	{ "domainNames empty", OUT "  - {action: Accept, to: [{domainNames: []}]}\n", "9:41", "domainNames is empty" },
	{ "one label", OUT "  - {action: Accept, to: [{domainNames: [localhost]}]}\n",
	  "9:42", "domain name 'localhost': it needs at least two labels" },
	{ "wildcard alone", OUT "  - {action: Accept, to: [{domainNames: ['*']}]}\n",
	  "9:42", "the wildcard '*' may only be the first label" },
	{ "wildcard inside", OUT "  - {action: Accept, to: [{domainNames: [a.*.com]}]}\n",
	  "9:42", "the wildcard '*' may only be the first label" },
	{ "wildcard and one label", OUT "  - {action: Accept, to: [{domainNames: ['*.com']}]}\n",
	  "9:42", "at least two labels" },
	{ "label ending in '-'", OUT "  - {action: Accept, to: [{domainNames: [a-.com]}]}\n",
	  "9:42", "each label must end with a letter or digit" },
	{ "v1beta1: '_' does not begin a label", OUT "  - {action: Accept, to: [{domainNames: [_sip.example.com]}]}\n",
	  "9:42", "each label must begin with a letter or digit" },
	{ "two dots", OUT "  - {action: Accept, to: [{domainNames: [a..com]}]}\n",
	  "9:42", "empty label" },
	{ "a character no label holds", OUT "  - {action: Accept, to: [{domainNames: [a!b.com]}]}\n",
	  "9:42", "a label may hold only letters, digits, '-' and '_'" },
	{ "a name twice", OUT "  - {action: Accept, to: [{domainNames: [a.com, a.com]}]}\n",
	  "9:49", "is listed twice" },
	/* protocols */
	{ "protocols empty", IN "  - {action: Deny, from: [{namespaces: {}}], protocols: []}\n",
	  "9:57", "protocols is empty" },
	{ "26 protocols", PROTOS T25 T1, "37:7", "protocols has 26 items" },
	{ "protocols entry with two", PROTOS "    - {tcp: {destinationPort: {number: 80}},"
	  " udp: {destinationPort: {number: 53}}}\n",
	  "12:46", "protocols entry takes exactly one of tcp, udp, sctp or destinationNamedPort" },
	{ "protocols entry empty", PROTOS "    - {}\n", "12:7", "protocols entry needs one of tcp, udp, sctp" },
	{ "protocols entry null", PROTOS "    - null\n", "12:7", "protocols entry needs one of" },
	{ "unknown protocol", PROTOS "    - {icmp: {}}\n", "12:8", "unknown field 'icmp' in protocols entry" },
	{ "tcp without destinationPort", PROTOS "    - {tcp: {}}\n",
	  "12:13", "tcp needs destinationPort: {number: N} or {range: {start: N, end: M}}" },
	{ "destinationPort empty", PROTOS "    - {udp: {destinationPort: {}}}\n",
	  "12:31", "destinationPort needs number or range" },
	{ "number and range", PROTOS "    - tcp: {destinationPort: {number: 80, range: {start: 1, end: 2}}}\n",
	  "12:43", "destinationPort takes exactly one of number or range" },
	{ "port 0", PROTOS "    - tcp: {destinationPort: {number: 0}}\n",
	  "12:39", "destinationPort number 0 is out of range; use a number from 1 to 65535" },
	{ "port 65536", PROTOS "    - sctp: {destinationPort: {number: 65536}}\n",
	  "12:40", "out of range" },
	{ "port quoted", PROTOS "    - tcp: {destinationPort: {number: '80'}}\n", "12:39", "is quoted" },
	{ "range start == end", PROTOS "    - udp: {destinationPort: {range: {start: 53, end: 53}}}\n",
	  "12:55", "range end 53 must be greater than start 53; for one port write number: 53" },
	{ "range start > end", PROTOS "    - udp: {destinationPort: {range: {start: 54, end: 53}}}\n",
	  "12:55", "must be greater than start 54" },
	{ "range without end", PROTOS "    - udp: {destinationPort: {range: {start: 53}}}\n",
	  "12:38", "range needs start and end" },
	{ "range start 0", PROTOS "    - udp: {destinationPort: {range: {start: 0, end: 53}}}\n",
	  "12:46", "range start 0 is out of range" },
	{ "range field typo", PROTOS "    - udp: {destinationPort: {range: {from: 1, to: 2}}}\n",
	  "12:39", "unknown field 'from' in range" },
	{ "bad named port", PROTOS "    - destinationNamedPort: HTTP\n",
	  "12:29", "destinationNamedPort 'HTTP': a port name may hold only lower-case letters" },
	{ "named port of 16 characters", PROTOS "    - destinationNamedPort: abcdefghijklmnop\n",
	  "12:29", "at most 15 characters" },
	{ "egress named port with networks", OUT "  - action: Accept\n    to: [{networks: [10.0.0.0/8]}]\n"
	  "    protocols: [{destinationNamedPort: web}]\n",
	  "11:40", "destinationNamedPort does not go with networks, nodes or domainNames peers" },
	{ "egress named port with nodes", OUT "  - action: Deny\n    to: [{namespaces: {}}, {nodes: {}}]\n"
	  "    protocols: [{tcp: {destinationPort: {number: 1}}}, {destinationNamedPort: web}]\n",
	  "11:79", "destinationNamedPort does not go with" },
	{ "egress named port with domainNames", OUT "  - action: Accept\n    to: [{domainNames: [a.b]}]\n"
	  "    protocols: [{destinationNamedPort: web}]\n", "11:40", "does not go with" },
};

TABLE_TEST(cnp, invalid, cnp_invalid, check_invalid)

/* ---- the model's fields beyond describe() --------------------------------- */

Test(cnp, kind_tier_priority_positions_and_source)
{
	const char *y = "# header\n" HEAD "  egress:\n  - name: out\n    action: Pass\n"
			"    to: [{namespaces: {}}]\n---\napiVersion: policy.networking.k8s.io/v1alpha2\n"
			"kind: ClusterNetworkPolicy\nmetadata: {name: cnp2}\nspec:\n  tier: Baseline\n"
			"  priority: 7\n  subject: {namespaces: {}}\n";
	struct seg_policy *p;
	size_t n;
	struct seg_error e;

	cr_assert_eq(parse(y, "shop", &p, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 2);
	cr_assert_eq(p[0].kind, SEG_KIND_CNP);
	cr_assert_str_eq(p[0].ns, "");
	cr_assert_str_eq(p[0].name, "cnp");
	cr_assert_eq(p[0].tier, SEG_TIER_ADMIN);
	cr_assert_eq(p[0].priority, 5);
	cr_assert_eq(p[0].line, 2);
	cr_assert_eq(p[0].rules[0].line, 10);
	cr_assert_eq(p[0].rules[0].col, 5);
	cr_assert_eq(p[0].rules[0].action, SEG_ACTION_PASS);
	cr_assert_eq(p[0].rules[0].dir, SEGD_DIR_EGRESS);
	cr_assert_not(p[0].rules[0].fail_closed);
	cr_assert_null(strstr(p[0].source, "namespace:"), "%s", p[0].source);
	cr_assert(strstr(p[0].source, "v1beta1"), "%s", p[0].source);
	cr_assert_eq(p[1].tier, SEG_TIER_BASELINE);
	cr_assert_eq(p[1].priority, 7);
	cr_assert(strstr(p[1].source, "v1alpha2"), "%s", p[1].source);
	seg_policies_free(p, n);
}

Test(cnp, other_kinds_keep_tier_netpol)
{
	const char *y = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
			"metadata: {name: cnp}\nspec: {podSelector: {}}\n---\n" HEAD;
	struct seg_policy *p;
	size_t n;
	struct seg_error e;

	/* a NetworkPolicy and a ClusterNetworkPolicy of the same name */
	cr_assert_eq(parse(y, NULL, &p, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 2);
	cr_assert_eq(p[0].tier, SEG_TIER_NETPOL);
	cr_assert_eq(p[0].priority, 0);
	cr_assert_str_eq(p[0].ns, "default");
	cr_assert_str_eq(p[1].ns, "");
	seg_policies_free(p, n);
}

Test(cnp, the_limits_are_accepted)
{
	/* 25 rules a direction, 25 peers, 25 protocols, a full range */
	const char *y = HEAD "  ingress:\n" R25 "  egress:\n  - action: Deny\n    to:\n" P25
			"    protocols:\n" T25 R5 R5 R5 R5 R1 R1 R1 "  - action: Accept\n    to:\n    - domainNames: "
			"[a.b, c.d, e.f, g.h, i.j, k.l, m.n, o.p, q.r, s.t, u.v, w.x, y.z, a.c,"
			" a.d, a.e, a.f, a.g, a.h, a.i, a.j, a.k, a.l, a.m, a.n]\n";
	struct seg_policy *p;
	size_t n;
	struct seg_error e;
	char *s = strdup(y);

	/* R1 is an ingress rule: as egress rules the lines say to, not from */
	for (char *q = strstr(s, "  egress:"); (q = strstr(q, "from: ")); )
		memcpy(q, "to:   ", 6);
	cr_assert_eq(parse(s, NULL, &p, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(p[0].n_rules, 50);
	cr_assert(p[0].enforce[0] && p[0].enforce[1]);
	cr_assert_eq(p[0].rules[25].n_peers, 25);
	cr_assert_eq(p[0].rules[25].n_ports, 25);
	cr_assert_eq(p[0].rules[49].n_peers, 25);
	cr_assert_eq(p[0].rules[49].peers[24].kind, SEG_PEER_DOMAIN);
	cr_assert_str_eq(p[0].rules[49].peers[24].domain, "a.n");
	seg_policies_free(p, n);
	free(s);
}

/* ---- the compiler takes it; the incremental one gives the same ------------------ */

Test(cnp, compiles_and_the_cache_gives_the_same)
{
	const char *y = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
			"metadata: {name: np}\nspec: {podSelector: {}}\n---\n" HEAD
			"  ingress:\n  - {action: Deny, from: [{namespaces: {}}]}\n";
	struct seg_world w = { 0 };
	struct seg_compiled c = { 0 }, c2 = { 0 };
	struct seg_compile_cache *cache = NULL;
	struct seg_compile_cache_stats st;
	struct seg_error e = { 0 };

	cr_assert_eq(parse(y, NULL, &w.policies, &w.n_policies, &e), 0, "%s", e.msg);
	cr_assert_eq(seg_compile(&w, &c, &e), 0, "%s", e.msg);
	cr_assert_eq(c.n_rules, 1);
	cr_assert_str_eq(c.rules[0].policy_ns, "");
	cr_assert_str_eq(c.rules[0].policy_name, "cnp");
	cr_assert_eq(c.rules[0].tier, SEG_TIER_ADMIN);
	cr_assert_eq(c.rules[0].priority, 5);
	cr_assert_eq(c.rules[0].action, SEG_ACTION_DENY);
	cr_assert_eq(seg_compile_cache_new(&cache), 0);
	for (int round = 0; round < 2; round++) {
		cr_assert_eq(seg_compile_cached(&w, cache, &c2, &e), 0, "%s", e.msg);
		seg_compile_cache_stats(cache, &st);
		cr_assert(st.full, "tiers compile whole");
		cr_assert_eq(c2.n_entries, c.n_entries);
		cr_assert_eq(c2.n_rules, c.n_rules);
		seg_compiled_free(&c2);
	}
	seg_compile_cache_free(cache);
	seg_compiled_free(&c);
	seg_policies_free(w.policies, 2);
}
