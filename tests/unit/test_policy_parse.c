/* test_policy_parse.c - policy documents -> model, table-driven.
 *
 * Each valid case states the expected model as canonical text (see
 * describe() in policy_parse_fixtures.h), so one table row covers enforce flags, rules,
 * all_peers/all_ports, peer kinds and ports. Each invalid case states the
 * exact line:col and a message substring. Fixture files are checked too.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_parse_fixtures.h"

/* Lines 1-4 of every snippet; the spec body starts on line 5. */
#define K8S "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n" \
	"metadata: {name: np}\nspec:\n"
#define SEG "apiVersion: segd.io/v1\nkind: SegmentPolicy\n" \
	"metadata: {name: sp}\nspec:\n"

/* ---- NetworkPolicy: valid ------------------------------------------------ */

static struct vcase k8s_valid[] = {
	{ "default deny ingress: only podSelector",
	  K8S "  podSelector: {}\n",
	  "default/np enforce=in subject={}" },
	{ "no policyTypes + egress rules: Ingress and Egress",
	  K8S "  podSelector: {matchLabels: {app: web}}\n"
	      "  egress: [{to: [{podSelector: {}}]}]\n",
	  "default/np enforce=in,out subject={app=web} | out allow peers=[pods{}] ports=*" },
	{ "no policyTypes + egress: [] is Ingress only (Kubernetes defaulting)",
	  K8S "  podSelector: {}\n  egress: []\n",
	  "default/np enforce=in subject={}" },
	{ "policyTypes: [] defaults like absent",
	  K8S "  podSelector: {}\n  policyTypes: []\n  egress: [{}]\n",
	  "default/np enforce=in,out subject={} | out allow peers=* ports=*" },
	{ "policyTypes Egress only: ingress rules have no effect",
	  K8S "  podSelector: {}\n  policyTypes: [Egress]\n"
	      "  ingress: [{}]\n  egress: [{ports: [{port: 53, protocol: UDP}]}]\n",
	  "default/np enforce=out subject={} | out allow peers=* ports=[udp/53]" },
	{ "both types, no rules: deny both ways",
	  K8S "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n",
	  "default/np enforce=in,out subject={}" },
	{ "ingress: [] and ingress: null are default deny",
	  K8S "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n"
	      "  ingress: []\n  egress:\n",
	  "default/np enforce=in,out subject={}" },
	{ "rule {} and null rule allow everything",
	  K8S "  podSelector: {}\n  ingress:\n  - {}\n  -\n",
	  "default/np enforce=in subject={} | in allow peers=* ports=* | in allow peers=* ports=*" },
	{ "from: [] and ports: [] mean all",
	  K8S "  podSelector: {}\n  ingress: [{from: [], ports: []}]\n",
	  "default/np enforce=in subject={} | in allow peers=* ports=*" },
	{ "podSelector alone: pods of the policy namespace",
	  K8S "  podSelector: {}\n  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}]}]\n",
	  "default/np enforce=in subject={} | in allow peers=[pods{app=api}] ports=*" },
	{ "namespaceSelector alone: all pods of matching namespaces",
	  K8S "  podSelector: {}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {team: x}}}]}]\n",
	  "default/np enforce=in subject={} | in allow peers=[pods{}@ns{team=x}] ports=*" },
	{ "both selectors in one peer: AND",
	  K8S "  podSelector: {}\n  ingress:\n  - from:\n"
	      "    - namespaceSelector: {matchLabels: {team: x}}\n"
	      "      podSelector: {matchLabels: {app: api}}\n",
	  "default/np enforce=in subject={} | in allow peers=[pods{app=api}@ns{team=x}] ports=*" },
	{ "two peers: OR",
	  K8S "  podSelector: {}\n  ingress:\n  - from:\n"
	      "    - namespaceSelector: {matchLabels: {team: x}}\n"
	      "    - podSelector: {matchLabels: {app: api}}\n",
	  "default/np enforce=in subject={} | in allow peers=[pods{}@ns{team=x} pods{app=api}] ports=*" },
	{ "null selector fields are unset",
	  K8S "  podSelector:\n  ingress: [{from: [{podSelector: {}, namespaceSelector: null}]}]\n",
	  "default/np enforce=in subject={} | in allow peers=[pods{}] ports=*" },
	{ "ipBlock with except, IPv4 and IPv6",
	  K8S "  podSelector: {}\n  egress:\n  - to:\n"
	      "    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16, 10.2.3.4/32]}\n"
	      "    - ipBlock: {cidr: '2001:db8::/32', except: ['2001:db8:1::/48']}\n",
	  "default/np enforce=in,out subject={} | out allow peers=[cidr 10.0.0.0/8 except 10.1.0.0/16,10.2.3.4/32 cidr 2001:db8::/32 except 2001:db8:1::/48] ports=*" },
	{ "ports: default TCP, protocol without port, endPort, {}",
	  K8S "  podSelector: {}\n  ingress:\n  - ports:\n"
	      "    - port: 80\n    - protocol: UDP\n"
	      "    - {protocol: SCTP, port: 9000, endPort: 9100}\n"
	      "    - {port: 7, endPort: 7}\n    - {}\n",
	  "default/np enforce=in subject={} | in allow peers=* ports=[tcp/80 udp sctp/9000-9100 tcp/7 tcp]" },
	{ "matchExpressions, all four operators",
	  K8S "  podSelector:\n    matchLabels: {tier: front}\n    matchExpressions:\n"
	      "    - {key: app, operator: In, values: [a, b]}\n"
	      "    - {key: env, operator: NotIn, values: [prod]}\n"
	      "    - {key: example.com/x, operator: Exists}\n"
	      "    - {key: y, operator: DoesNotExist, values: []}\n",
	  "default/np enforce=in subject={tier=front,app in (a,b),env notin (prod),example.com/x,!y}" },
	{ "label values: empty and null are \"\"",
	  K8S "  podSelector: {matchLabels: {a: '', b: , c: 1.2_x-Y}}\n",
	  "default/np enforce=in subject={a=,b=,c=1.2_x-Y}" },
	{ "explicit namespace and ObjectMeta fields are accepted",
	  "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	  "metadata:\n  name: a.b-c\n  namespace: shop\n  labels: {x: y}\n"
	  "  annotations: {note: hi}\n  resourceVersion: \"5\"\n"
	  "spec: {podSelector: {}}\n",
	  "shop/a.b-c enforce=in subject={}" },
	{ "annotation segd.io/mode: audit",
	  "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	  "metadata: {name: np, annotations: {segd.io/mode: audit, x: y}}\n"
	  "spec:\n  podSelector: {}\n",
	  "default/np enforce=in subject={} audit" },
	{ "annotation segd.io/mode: enforce",
	  "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	  "metadata: {name: np, annotations: {segd.io/mode: enforce}}\n"
	  "spec:\n  podSelector: {}\n",
	  "default/np enforce=in subject={}" },
};

TABLE_TEST(policy_parse, k8s_valid, k8s_valid, check_valid)

/* ---- SegmentPolicy: valid ------------------------------------------------ */

static struct vcase seg_valid[] = {
	{ "the example of the reference",
	  "apiVersion: segd.io/v1\nkind: SegmentPolicy\n"
	  "metadata: {name: shop-web, namespace: shop}\nspec:\n"
	  "  segments:\n"
	  "    web: {selector: {matchLabels: {app: web}}}\n"
	  "    monitoring: {selector: {matchLabels: {app: prometheus}}, namespaceSelector: {matchLabels: {team: obs}}}\n"
	  "  appliesTo: {segment: web}\n"
	  "  ingress:\n"
	  "    - name: from-lb\n      action: allow\n"
	  "      from: [{entity: world}, {segment: monitoring}]\n"
	  "      ports: [{protocol: TCP, port: 80}, {protocol: TCP, port: 8000, endPort: 8080}]\n"
	  "  egress:\n"
	  "    - action: deny\n      to: [{cidr: 203.0.113.0/24, except: [203.0.113.128/25]}]\n"
	  "    - to: [{selector: {matchLabels: {app: api}}}]\n"
	  "      ports: [{protocol: UDP, port: 53}, {protocol: ICMP}]\n",
	  "shop/shop-web enforce=in,out subject={app=web}"
	  " | in allow \"from-lb\" peers=[world pods{app=prometheus}@ns{team=obs}] ports=[tcp/80 tcp/8000-8080]"
	  " | out deny peers=[cidr 203.0.113.0/24 except 203.0.113.128/25] ports=*"
	  " | out allow peers=[pods{app=api}] ports=[udp/53 icmp]" },
	{ "no appliesTo, ingress only, deny-then-allow",
	  SEG "  ingress:\n  - {action: DENY, from: [{cidr: 192.0.2.1}]}\n  - {}\n",
	  "default/sp enforce=in subject={} | in deny peers=[cidr 192.0.2.1/32] ports=* | in allow peers=* ports=*" },
	{ "empty lists: enforced, nothing allowed",
	  SEG "  ingress: []\n  egress:\n",
	  "default/sp enforce=in,out subject={}" },
	{ "no ingress/egress keys: nothing enforced, audit",
	  SEG "  appliesTo: {selector: {}}\n  audit: true\n",
	  "default/sp enforce=- subject={} audit" },
	{ "appliesTo inline with namespaceSelector",
	  SEG "  appliesTo: {selector: {matchLabels: {app: x}}, namespaceSelector: {}}\n  egress: [{}]\n",
	  "default/sp enforce=out subject={app=x}@ns{} | out allow peers=* ports=*" },
	{ "appliesTo a segment with a namespaceSelector",
	  SEG "  segments: {mon: {namespaceSelector: {matchLabels: {team: obs}}}}\n"
	      "  appliesTo: {segment: mon}\n  ingress: [{from: [{segment: mon}]}]\n",
	  "default/sp enforce=in subject={}@ns{team=obs} | in allow peers=[pods{}@ns{team=obs}] ports=*" },
	{ "entities and namespaceSelector-only peers",
	  SEG "  ingress: [{from: [{entity: World}, {entity: host}, {entity: all}, {namespaceSelector: {}}]}]\n",
	  "default/sp enforce=in subject={} | in allow peers=[world host all pods{}@ns{}] ports=*" },
	{ "protocols: any with port expands, any alone, case-insensitive",
	  SEG "  egress:\n  - ports: [{protocol: any, port: 53}, {protocol: ANY}, {protocol: tcp, port: 1, endPort: 65535},"
	      " {protocol: icmpv6}, {protocol: Udp}, {port: 22}]\n",
	  "default/sp enforce=out subject={} | out allow peers=* ports=[tcp/53 udp/53 sctp/53 any tcp/1-65535 icmpv6 udp tcp/22]" },
	{ "IPv6 cidr with except, named rule",
	  SEG "  egress:\n  - name: v6 out\n    to: [{cidr: '2001:db8::/32', except: ['2001:db8::10/128']}]\n",
	  "default/sp enforce=out subject={} | out allow \"v6 out\" peers=[cidr 2001:db8::/32 except 2001:db8::10/128] ports=*" },
	{ "segments may be unused; audit false",
	  SEG "  segments:\n    a: {selector: {matchLabels: {app: a}}}\n    b_2.x: {selector: {}}\n"
	      "  audit: false\n  ingress: [{from: [{segment: b_2.x}], action: allow}]\n",
	  "default/sp enforce=in subject={} | in allow peers=[pods{}] ports=*" },
	{ "mode: audit",
	  SEG "  mode: audit\n  ingress: []\n",
	  "default/sp enforce=in subject={} audit" },
	{ "mode: enforce",
	  SEG "  mode: enforce\n  ingress: []\n",
	  "default/sp enforce=in subject={}" },
	{ "audit: true, the older spelling, agreeing with mode",
	  SEG "  mode: audit\n  audit: true\n  egress: []\n",
	  "default/sp enforce=out subject={} audit" },
	{ "annotation on a SegmentPolicy, mode agrees",
	  "apiVersion: segd.io/v1\nkind: SegmentPolicy\n"
	  "metadata: {name: sp, annotations: {segd.io/mode: audit}}\n"
	  "spec:\n  mode: audit\n  ingress: []\n",
	  "default/sp enforce=in subject={} audit" },
};

TABLE_TEST(policy_parse, seg_valid, seg_valid, check_valid)

/* ---- invalid input: exact position and message ---------------------------- */

static struct ecase invalid[] = {
	/* envelope */
	{ "YAML syntax", "a: [b\n", "2:1", "invalid YAML" },
	{ "root is a list", "- a\n", "1:1", "must be a mapping" },
	{ "unknown kind", "apiVersion: v1\nkind: Pod\n", "2:7", "supported kinds: SegmentPolicy" },
	{ "missing kind", "apiVersion: v1\n", "1:1", "missing 'kind'" },
	{ "wrong apiVersion for NetworkPolicy",
	  "apiVersion: networking.k8s.io/v1beta1\nkind: NetworkPolicy\n", "1:13", "use networking.k8s.io/v1" },
	{ "SegmentPolicy under the k8s group",
	  "apiVersion: networking.k8s.io/v1\nkind: SegmentPolicy\n", "1:13", "use segd.io/v1" },
	{ "unknown top-level field", K8S "  podSelector: {}\nstatuz: {}\n", "6:1", "did you mean 'status'?" },
	{ "missing metadata", "apiVersion: segd.io/v1\nkind: SegmentPolicy\nspec: {}\n", "1:1", "missing 'metadata'" },
	{ "missing name", "apiVersion: segd.io/v1\nkind: SegmentPolicy\nmetadata: {namespace: a}\nspec: {}\n",
	  "3:11", "missing metadata.name" },
	{ "bad name", "apiVersion: segd.io/v1\nkind: SegmentPolicy\nmetadata: {name: Web_1}\nspec: {}\n",
	  "3:18", "invalid metadata.name 'Web_1'" },
	{ "bad namespace", "apiVersion: segd.io/v1\nkind: SegmentPolicy\nmetadata: {name: a, namespace: a.b}\nspec: {}\n",
	  "3:32", "invalid metadata.namespace" },
	{ "metadata typo", "apiVersion: segd.io/v1\nkind: SegmentPolicy\nmetadata: {name: a, namspace: b}\nspec: {}\n",
	  "3:21", "did you mean 'namespace'?" },
	{ "missing spec", "apiVersion: segd.io/v1\nkind: SegmentPolicy\nmetadata: {name: a}\n", "1:1", "missing 'spec'" },
	{ "spec is a list", SEG "  - a\n", "5:3", "spec must be a mapping" },
	{ "alias", SEG "  segments: {a: &s {selector: {}}, b: *s}\n", "5:17", "aliases are not supported" },
	{ "duplicate key", SEG "  ingress: []\n  ingress: []\n", "6:3", "duplicate field 'ingress'" },
	/* NetworkPolicy */
	{ "k8s: podSelector missing", K8S "  ingress: []\n", "5:3", "needs podSelector" },
	{ "k8s: podSelector is a list", K8S "  podSelector: []\n", "5:16", "podSelector must be a mapping" },
	{ "k8s: bad policyType", K8S "  podSelector: {}\n  policyTypes: [ingress]\n", "6:17", "use Ingress or Egress" },
	{ "k8s: three policyTypes", K8S "  podSelector: {}\n  policyTypes: [Ingress, Egress, Ingress]\n", "6:16", "at most two" },
	{ "k8s: 'to' in ingress", K8S "  podSelector: {}\n  ingress: [{to: []}]\n", "6:14", "unknown field 'to' in ingress rule" },
	{ "k8s: typo ports", K8S "  podSelector: {}\n  ingress:\n  - prots: []\n", "7:5", "did you mean 'ports'?" },
	{ "k8s: empty peer", K8S "  podSelector: {}\n  ingress: [{from: [{}]}]\n", "6:21", "empty peer" },
	{ "k8s: ipBlock with selector", K8S "  podSelector: {}\n  egress:\n  - to:\n    - podSelector: {}\n      ipBlock: {cidr: 10.0.0.0/8}\n",
	  "9:7", "ipBlock cannot be combined" },
	{ "k8s: ipBlock without cidr", K8S "  podSelector: {}\n  egress: [{to: [{ipBlock: {except: []}}]}]\n", "6:28", "needs 'cidr'" },
	{ "k8s: host bits", K8S "  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.1/8}}]}]\n",
	  "6:35", "10.0.0.1/8 has host bits set; did you mean 10.0.0.0/8?" },
	{ "k8s: not a CIDR", K8S "  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.300/8}}]}]\n", "6:35", "not a CIDR" },
	{ "k8s: cidr without prefix", K8S "  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.1}}]}]\n", "6:35", "needs a prefix length" },
	{ "k8s: except outside cidr", K8S "  podSelector: {}\n  egress:\n  - to:\n    - ipBlock:\n        cidr: 10.0.0.0/16\n        except: [10.1.0.0/24]\n",
	  "10:18", "not a strict subset" },
	{ "k8s: except equal to cidr", K8S "  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.0.0/16]}}]}]\n",
	  "6:57", "not a strict subset" },
	{ "k8s: except of other family", K8S "  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0, except: ['::/1']}}]}]\n",
	  "6:55", "IPv6 but cidr 0.0.0.0/0 is IPv4" },
	{ "k8s: port name upper case", K8S "  podSelector: {}\n  ingress: [{ports: [{port: Http}]}]\n", "6:29",
	  "port name 'Http': a port name may hold only lower-case letters" },
	{ "k8s: port name too long", K8S "  podSelector: {}\n  ingress: [{ports: [{port: a234567890123456}]}]\n", "6:29",
	  "at most 15 characters" },
	{ "k8s: range from a port name", K8S "  podSelector: {}\n  ingress: [{ports: [{port: http, endPort: 90}]}]\n", "6:44",
	  "endPort needs a numeric 'port'" },
	{ "k8s: endPort a name", K8S "  podSelector: {}\n  ingress: [{ports: [{port: 80, endPort: http}]}]\n", "6:42",
	  "endPort 'http' is a port name; endPort must be a number" },
	{ "k8s: quoted port", K8S "  podSelector: {}\n  ingress: [{ports: [{port: \"80\"}]}]\n", "6:29", "without quotes" },
	{ "k8s: port 0", K8S "  podSelector: {}\n  ingress: [{ports: [{port: 0}]}]\n", "6:29", "out of range" },
	{ "k8s: port 65536", K8S "  podSelector: {}\n  ingress: [{ports: [{port: 65536}]}]\n", "6:29", "out of range" },
	{ "k8s: endPort without port", K8S "  podSelector: {}\n  ingress: [{ports: [{endPort: 90}]}]\n", "6:32", "endPort needs 'port'" },
	{ "k8s: endPort below port", K8S "  podSelector: {}\n  ingress: [{ports: [{port: 90, endPort: 80}]}]\n", "6:42", "must be >= port" },
	{ "k8s: lower-case protocol", K8S "  podSelector: {}\n  ingress: [{ports: [{protocol: tcp}]}]\n", "6:33", "TCP, UDP or SCTP" },
	{ "k8s: ICMP is not a k8s protocol", K8S "  podSelector: {}\n  ingress: [{ports: [{protocol: ICMP}]}]\n", "6:33", "unsupported protocol 'ICMP'" },
	{ "k8s: In without values", K8S "  podSelector: {matchExpressions: [{key: a, operator: In}]}\n", "5:55", "non-empty 'values'" },
	{ "k8s: Exists with values", K8S "  podSelector: {matchExpressions: [{key: a, operator: Exists, values: [x]}]}\n",
	  "5:71", "takes no 'values'" },
	{ "k8s: unknown operator", K8S "  podSelector: {matchExpressions: [{key: a, operator: in, values: [x]}]}\n", "5:55", "unknown operator 'in'" },
	{ "k8s: bad label key", K8S "  podSelector: {matchLabels: {-a: b}}\n", "5:31", "invalid label key '-a'" },
	{ "k8s: bad label prefix", K8S "  podSelector: {matchLabels: {Ex.com/a: b}}\n", "5:31", "DNS subdomain" },
	{ "k8s: label value too long", K8S "  podSelector: {matchLabels: {a: "
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}}\n", "5:34", "at most 63" },
	{ "k8s: label value is a list", K8S "  podSelector: {matchLabels: {a: [b]}}\n", "5:34", "must be a string" },
	{ "k8s: duplicate label key", K8S "  podSelector: {matchLabels: {a: b, a: c}}\n", "5:37", "duplicate" },
	{ "k8s: ingress is a mapping", K8S "  podSelector: {}\n  ingress: {from: []}\n", "6:12", "ingress must be a list" },
	/* SegmentPolicy */
	{ "seg: undefined segment", SEG "  segments: {web: {selector: {}}}\n  ingress: [{from: [{segment: db}]}]\n",
	  "6:31", "undefined segment 'db'; define it under spec.segments" },
	{ "seg: segment typo", SEG "  segments: {web: {selector: {}}}\n  appliesTo: {segment: wbe}\n",
	  "6:24", "did you mean 'web'?" },
	{ "seg: segment without selector", SEG "  segments: {web: {}}\n", "5:19", "needs 'selector'" },
	{ "seg: bad segment name", SEG "  segments: {-web: {selector: {}}}\n", "5:14", "invalid segment name" },
	{ "seg: from in egress", SEG "  egress: [{from: []}]\n", "5:13", "egress rules take 'to', not 'from'" },
	{ "seg: typo in rule", SEG "  ingress:\n  - prots: []\n", "6:5", "unknown field 'prots' in ingress rule; did you mean 'ports'?" },
	{ "seg: empty from", SEG "  ingress: [{from: []}]\n", "5:20", "omit 'from' to match every peer" },
	{ "seg: empty ports", SEG "  ingress: [{ports: []}]\n", "5:21", "omit 'ports'" },
	{ "seg: null rule", SEG "  ingress:\n  -\n", "6:4", "empty rule" },
	{ "seg: bad action", SEG "  ingress: [{action: drop}]\n", "5:22", "use allow or deny" },
	{ "seg: peer with two kinds", SEG "  ingress: [{from: [{entity: world, cidr: 10.0.0.0/8}]}]\n", "5:21", "only one kind" },
	{ "seg: except without cidr", SEG "  ingress: [{from: [{entity: world, except: [10.0.0.0/8]}]}]\n", "5:37", "only goes with 'cidr'" },
	{ "seg: unknown entity", SEG "  ingress: [{from: [{entity: internet}]}]\n", "5:30", "use world, host or all" },
	{ "seg: port with ICMP", SEG "  ingress: [{ports: [{protocol: ICMP, port: 8}]}]\n", "5:45", "ICMP has no ports" },
	{ "seg: unknown protocol", SEG "  ingress: [{ports: [{protocol: GRE}]}]\n", "5:33", "TCP, UDP, SCTP, ICMP, ICMPv6 or any" },
	{ "seg: host bits (IPv6)", SEG "  egress: [{to: [{cidr: 'fd00::1/64'}]}]\n", "5:25", "did you mean fd00::/64?" },
	{ "seg: appliesTo both", SEG "  segments: {w: {selector: {}}}\n  appliesTo: {segment: w, selector: {}}\n", "6:14", "not both" },
	{ "seg: appliesTo {}", SEG "  appliesTo: {}\n", "5:14", "omit appliesTo" },
	{ "seg: null namespaceSelector", SEG "  ingress: [{from: [{selector: {}, namespaceSelector: }]}]\n", "5:55", "use {} for every namespace" },
	{ "seg: audit not a bool", SEG "  audit: maybe\n", "5:10", "true or false" },
	{ "seg: selector typo", SEG "  appliesTo: {selector: {matchLabel: {a: b}}}\n", "5:26", "did you mean 'matchLabels'?" },
	/* streams */
	{ "duplicate policy in one call",
	  SEG "  ingress: []\n---\n" SEG "  egress: []\n", "9:18", "duplicate policy default/sp" },
	{ "all-or-nothing: second document bad",
	  K8S "  podSelector: {}\n---\n" SEG "  ingress: [{from: [{entity: nope}]}]\n", "11:30", "unknown entity" },
	/* mode */
	{ "bad spec.mode", SEG "  mode: Audit\n  ingress: []\n", "5:9",
	  "mode must be enforce or audit, not 'Audit'" },
	{ "spec.mode not a string", SEG "  mode: [audit]\n", "5:9", "spec.mode" },
	{ "bad annotation value",
	  "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
	  "  name: np\n  annotations: {segd.io/mode: dry-run}\nspec:\n  podSelector: {}\n",
	  "5:31", "segd.io/mode must be enforce or audit, not 'dry-run'" },
	{ "spec.mode contradicts the annotation",
	  "apiVersion: segd.io/v1\nkind: SegmentPolicy\n"
	  "metadata: {name: sp, annotations: {segd.io/mode: audit}}\n"
	  "spec:\n  mode: enforce\n", "5:9", "contradicts the annotation" },
	{ "audit: true contradicts mode: enforce",
	  SEG "  mode: enforce\n  audit: true\n", "6:10", "audit: true contradicts mode enforce" },
};

TABLE_TEST(policy_parse, invalid, invalid, check_invalid)

/* ---- streams, namespaces, positions --------------------------------------- */

Test(policy_parse, default_namespace)
{
	expect_model(K8S "  podSelector: {}\n", "custom",
		     "custom/np enforce=in subject={}");
	expect_model(SEG "  ingress: []\n", NULL,
		     "default/sp enforce=in subject={}");
	expect_model("apiVersion: segd.io/v1\nkind: SegmentPolicy\n"
		     "metadata: {name: sp, namespace: mine}\nspec: {}\n",
		     "custom", "mine/sp enforce=- subject={}");
}

Test(policy_parse, empty_streams_and_documents)
{
	static const char *const empty[] = { "", "# only a comment\n", "---\n",
					     "---\n---\n...\n", "--- ~\n" };
	struct seg_policy *p;
	size_t n;
	struct seg_error e;

	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		cr_assert_eq(parse(empty[i], NULL, &p, &n, &e), 0, "%s: %s",
			     empty[i], e.msg);
		cr_assert_eq(n, 0);
		seg_policies_free(p, n);
	}
	expect_model("---\n---\n" K8S "  podSelector: {}\n---\n\n---\n"
		     "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
		     "metadata: {name: np, namespace: other}\nspec: {podSelector: {}}\n---\n",
		     NULL, "default/np enforce=in subject={}\n"
		     "other/np enforce=in subject={}");
}

Test(policy_parse, positions_and_kinds)
{
	const char *y = "# header\n---\n" K8S "  podSelector: {}\n  ingress:\n"
			"  - {}\n  - from: []\n---\n" SEG "  egress:\n    - to: [{entity: all}]\n";
	struct seg_policy *p;
	size_t n;
	struct seg_error e;

	cr_assert_eq(parse(y, NULL, &p, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 2);
	cr_assert_eq(p[0].kind, SEG_KIND_K8S);
	cr_assert_eq(p[0].line, 3);
	cr_assert_eq(p[0].col, 1);
	cr_assert_eq(p[0].rules[0].line, 9);
	cr_assert_eq(p[0].rules[0].col, 5);
	cr_assert_eq(p[0].rules[1].line, 10);
	cr_assert_eq(p[0].rules[1].col, 5);
	cr_assert_eq(p[1].kind, SEG_KIND_SEGMENT);
	cr_assert_eq(p[1].line, 12);
	cr_assert_eq(p[1].rules[0].line, 17);
	cr_assert_eq(p[1].rules[0].col, 7);
	cr_assert_eq(p[1].rules[0].dir, SEGD_DIR_EGRESS);
	cr_assert(strstr(p[0].source, "namespace: default"), "%s", p[0].source);
	seg_policies_free(p, n);
}

Test(policy_parse, same_name_in_other_namespace_is_fine)
{
	expect_model(SEG "  ingress: []\n---\n"
		     "apiVersion: segd.io/v1\nkind: SegmentPolicy\n"
		     "metadata: {name: sp, namespace: b}\nspec: {ingress: []}\n",
		     NULL, "default/sp enforce=in subject={}\n"
		     "b/sp enforce=in subject={}");
}

Test(policy_parse, error_format_and_null_err)
{
	struct seg_policy *p;
	size_t n;
	struct seg_error e;
	char buf[600];
	const char *y = SEG "  ingress: [{ports: [{port: 99999}]}]\n";

	cr_assert_eq(parse(y, NULL, &p, &n, &e), -EINVAL);
	seg_error_format(&e, buf, sizeof(buf));
	cr_assert(!strncmp(buf, "t.yaml:5:29: port 99999 is out of range", 39), "%s", buf);
	cr_assert_eq(seg_policy_parse(y, strlen(y), NULL, NULL, &p, &n, NULL), -EINVAL);
	cr_assert_null(p);
	cr_assert_eq(seg_policy_parse(K8S "  podSelector: {}\n",
				      strlen(K8S "  podSelector: {}\n"), NULL,
				      NULL, &p, &n, NULL), 0);
	cr_assert_null(p[0].source_file);
	seg_policies_free(p, n);
}

/* ---- files: fixtures and shipped examples --------------------------------- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long sz;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)sz + 1))) {
		*len = fread(buf, 1, (size_t)sz, f);
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

/* Repository root from this file's path (tests/unit/...), else cwd. */
static void repo_path(char *out, size_t len, const char *rel)
{
	const char *me = __FILE__, *cut = strstr(me, "tests/unit/");

	snprintf(out, len, "%.*s%s", cut ? (int)(cut - me) : 0, me, rel);
}

typedef void (*file_fn)(const char *path, const char *buf, size_t len);

static int for_each_yaml(const char *rel, file_fn fn)
{
	char dir[512], path[1024];
	struct dirent *de;
	DIR *d;
	int count = 0;

	repo_path(dir, sizeof(dir), rel);
	d = opendir(dir);
	cr_assert(d, "cannot open %s (run from the repository root)", dir);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name), len;
		char *buf;

		if (l < 6 || strcmp(de->d_name + l - 5, ".yaml"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		buf = slurp(path, &len);
		cr_assert(buf, "cannot read %s", path);
		fn(path, buf, len);
		free(buf);
		count++;
	}
	closedir(d);
	return count;
}

static void must_parse(const char *path, const char *buf, size_t len)
{
	struct seg_policy *p;
	size_t n;
	struct seg_error e;
	char msg[1024];

	if (seg_policy_parse(buf, len, path, NULL, &p, &n, &e)) {
		seg_error_format(&e, msg, sizeof(msg));
		cr_assert_fail("%s", msg);
	}
	cr_assert_gt(n, 0, "%s holds no policy", path);
	seg_policies_free(p, n);
}

/* First line: "# expect: LINE:COL message substring" */
static void must_fail(const char *path, const char *buf, size_t len)
{
	struct seg_policy *p;
	size_t n;
	struct seg_error e;
	char pos[32], sub[256], got[32];

	cr_assert_eq(sscanf(buf, "# expect: %31s %255[^\n]", pos, sub), 2,
		     "%s: first line must be '# expect: L:C substring'", path);
	cr_assert_eq(seg_policy_parse(buf, len, path, NULL, &p, &n, &e), -EINVAL,
		     "%s parsed", path);
	snprintf(got, sizeof(got), "%d:%d", e.line, e.col);
	cr_assert_str_eq(got, pos, "%s: %s", path, e.msg);
	cr_assert(strstr(e.msg, sub), "%s: '%s' lacks '%s'", path, e.msg, sub);
	cr_assert_str_eq(e.file, path);
}

Test(policy_parse, fixtures)
{
	cr_assert_gt(for_each_yaml("tests/fixtures/policies/valid", must_parse), 0);
	cr_assert_gt(for_each_yaml("tests/fixtures/policies/invalid", must_fail), 0);
}

Test(policy_parse, shipped_examples)
{
	cr_assert_gt(for_each_yaml("policies", must_parse), 3);
}

Test(policy_parse, demo_policy)
{
	char path[512];
	size_t len;
	char *buf;
	struct seg_policy *p;
	size_t n;
	struct seg_error e;
	struct sb s = { 0 };

	repo_path(path, sizeof(path), "policies/demo.yaml");
	buf = slurp(path, &len);
	cr_assert(buf, "cannot read %s", path);
	cr_assert_eq(seg_policy_parse(buf, len, path, NULL, &p, &n, &e), 0, "%s", e.msg);
	describe_all(&s, p, n);
	cr_assert_str_eq(s.buf,
		"shop/shop-default-deny enforce=in,out subject={}\n"
		"shop/shop-web enforce=in,out subject={app=web}"
		" | in allow \"http-from-world\" peers=[world] ports=[tcp/80]"
		" | out allow \"to-api\" peers=[pods{app=api}] ports=[tcp/8080 icmp icmpv6]\n"
		"shop/shop-api enforce=in,out subject={app=api}"
		" | in allow \"from-web\" peers=[pods{app=web}] ports=[tcp/8080 icmp icmpv6]"
		" | out allow \"to-db\" peers=[pods{app=db}] ports=[tcp/5432]"
		" | out allow \"https-out\" peers=[cidr 203.0.113.0/24] ports=[tcp/443]\n"
		"shop/db enforce=in,out subject={app=db}"
		" | in allow peers=[pods{app=api}] ports=[tcp/5432]");
	seg_policies_free(p, n);
	free(buf);
}
